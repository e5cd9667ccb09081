import type { Command } from 'commander';
import type { CredentialStatus } from '../../../client/types.js';
import { parseDurationSeconds } from '../../domain/duration.js';
import { BrokerError } from '../../errors.js';
import { collect, positiveInt, withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import { formatHuman } from '../output.js';
import type { CommandContext } from '../program.js';
import { formatTable } from '../table.js';

interface IssueFlags extends BrokerFlags {
  task: string;
  provider: string;
  scope?: string[];
  ttl?: string;
}

interface ListFlags extends BrokerFlags {
  status?: string;
  task?: string;
  provider?: string;
  limit?: string;
  cursor?: string;
}

const STATUSES: readonly CredentialStatus[] = ['active', 'revoked', 'expired', 'revoke_failed'];

/**
 * `taskpass credential issue` (as a workload) and `taskpass credentials ls` (as an operator).
 *
 * The secret is written once, to stdout only: alone on its line for people (the record goes to
 * stderr, so `TOKEN=$(taskpass credential issue …)` captures just the secret), or inside
 * `{credential, secret}` with `--json`. It is never logged and never part of an error.
 */
export function registerCredentialCommands(program: Command, ctx: CommandContext): void {
  const credential = program
    .command('credential')
    .description('get a task-scoped credential (as a workload)');
  withBrokerFlags(
    credential
      .command('issue')
      .description('issue a credential for a task; its issuance is in the ledger before it is printed')
      .requiredOption('--task <id>', 'the task')
      .requiredOption('--provider <name>', 'the credential provider')
      .option('--scope <scope>', 'a scope (repeatable)', collect)
      .option('--ttl <duration>', 'requested lifetime, e.g. 5m (capped by policy, task and SVID)'),
  ).action((flags: IssueFlags) => {
    const ttl = flags.ttl === undefined ? undefined : parseDurationSeconds(flags.ttl);
    return withBroker(flags, ctx, async (client) => {
      const issued = await client.issueCredential(flags.task, {
        provider: flags.provider,
        scopes: flags.scope ?? [],
        ...(ttl !== undefined && { ttl_seconds: ttl }),
      });
      if (ctx.json()) return ctx.result({ credential: issued.credential, secret: issued.secret });
      ctx.io.stderr(formatHuman({ ...issued.credential }) + '\n');
      ctx.io.stdout(issued.secret + '\n');
    });
  });
  registerCredentialsLs(program, ctx);
}

/** `taskpass credentials ls` (operators), e.g. `--status revoke_failed`; newest first. */
function registerCredentialsLs(program: Command, ctx: CommandContext): void {
  const credentials = program.command('credentials').description('list credentials (as an operator)');
  withBrokerFlags(
    credentials
      .command('ls')
      .description('list credentials (never their secrets), newest first')
      .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
      .option('--task <id>', "only this task's credentials")
      .option('--provider <name>', "only this provider's credentials")
      .option('--limit <n>', 'page size')
      .option('--cursor <cursor>', 'the next_cursor of the previous page'),
  ).action((flags: ListFlags) => {
    const limit = positiveInt('--limit', flags.limit);
    if (flags.status !== undefined && !STATUSES.includes(flags.status as CredentialStatus))
      throw new BrokerError('BROKER_CLI_USAGE', `--status takes one of ${STATUSES.join(', ')}`);
    return withBroker(flags, ctx, async (client) => {
      const page = await client.listCredentials({
        ...(flags.status !== undefined && { status: flags.status as CredentialStatus }),
        ...(flags.task !== undefined && { task_id: flags.task }),
        ...(flags.provider !== undefined && { provider: flags.provider }),
        ...(limit !== undefined && { limit }),
        ...(flags.cursor !== undefined && { cursor: flags.cursor }),
      });
      if (ctx.json()) return ctx.result({ ...page });
      const rows = page.credentials.map((c) => ({
        ...c,
        revocation: c.revocation && `${c.revocation.state} (${c.revocation.attempts} attempts)`,
      }));
      const columns = ['id', 'task_id', 'provider', 'status', 'revocability', 'expires_at', 'revocation'];
      ctx.io.stdout(formatTable(rows, columns) + '\n');
      if (page.next_cursor !== null) ctx.io.stdout(`next_cursor: ${page.next_cursor}\n`);
    });
  });
}
