import type { Command } from 'commander';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { CommandContext } from '../program.js';

/**
 * `taskpass id parse SPIFFE_ID`: prints `{trust_domain, path}`, or fails with the code of the broken
 * SPIFFE-ID rule.
 */
export function registerIdCommands(program: Command, ctx: CommandContext): void {
  const id = program.command('id').description('work with SPIFFE IDs');
  id.command('parse')
    .description('parse a SPIFFE ID and print its trust domain and path, or the rule it breaks')
    .argument('<spiffe-id>')
    .action(async (text: string) => {
      const parsed = SpiffeId.parse(text);
      ctx.result({ spiffe_id: parsed.toString(), trust_domain: parsed.trustDomain.name, path: parsed.path });
    });
}
