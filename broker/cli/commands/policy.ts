import type { Command } from 'commander';
import { formatPolicyIssue, PolicyInvalidError } from '../../policy/policy-error.js';
import { BROKER_ERROR_CODES } from '../../errors.js';
import { AlreadyReported } from '../output.js';
import type { CommandContext } from '../program.js';

/**
 * `taskpass policy check FILE`: validates a policy file. Valid: prints its version, sha256 and rule
 * names, exit 0. Invalid: lists EVERY problem with its location (JSON: `{error:{code,message}, issues}`),
 * exit 2.
 */
export function registerPolicyCommands(program: Command, ctx: CommandContext): void {
  const policy = program.command('policy').description('work with policy files');
  policy
    .command('check')
    .description('validate a policy file and list every problem with its location')
    .argument('<file>')
    .action(async (file: string) => {
      // Loaded on use (the YAML parser): every `taskpass` invocation loads this module.
      const { loadPolicyFile } = await import('../../policy/load-policy.js');
      try {
        const loaded = await loadPolicyFile(file);
        ctx.result({
          valid: true,
          version: loaded.version,
          ...(loaded.revision === undefined ? {} : { revision: loaded.revision }),
          sha256: loaded.sha256,
          rules: loaded.rules.map((r) => r.name),
        });
      } catch (err) {
        if (!(err instanceof PolicyInvalidError)) throw err;
        if (ctx.json()) {
          ctx.io.stdout(
            JSON.stringify({ error: { code: err.code, message: err.message }, issues: err.issues }) + '\n',
          );
        } else {
          ctx.io.stderr(`taskpass: ${err.code}: ${err.issues.length} problem(s) in ${file}\n`);
          for (const issue of err.issues) ctx.io.stderr(`  ${formatPolicyIssue(issue)}\n`);
        }
        throw new AlreadyReported(BROKER_ERROR_CODES.BROKER_POLICY_INVALID.exit);
      }
    });
}
