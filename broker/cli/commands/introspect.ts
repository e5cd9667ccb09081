import type { Command } from 'commander';
import { readTokenArg, withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import { AlreadyReported } from '../output.js';
import type { CommandContext } from '../program.js';

interface IntrospectFlags extends BrokerFlags {
  tokenTypeHint?: string;
  requireActive?: boolean;
}

/**
 * `taskpass introspect TOKEN_OR_FILE [--require-active]` (resource servers and operators): asks the
 * broker whether a task token is active (`POST /oauth2/introspect`, RFC 7662) and prints its answer
 * unchanged: `{active: true, scope, exp, task_id, …}`, or exactly `{active: false}` for a revoked,
 * expired, unknown or malformed token. Both are answers, so both exit 0, unless `--require-active`
 * makes an inactive token exit 1 (for scripts: `taskpass introspect t.jwt --require-active && …`).
 */
export function registerIntrospectCommand(program: Command, ctx: CommandContext): void {
  withBrokerFlags(
    program
      .command('introspect')
      .argument('<token-or-file>', 'the token, or a file holding it (keeps it out of ps and the history)')
      .description('ask the broker whether a token is active (RFC 7662), as a resource server or operator')
      .option('--token-type-hint <hint>', 'RFC 7662 token_type_hint, e.g. access_token')
      .option('--require-active', 'exit 1 when the token is not active'),
  ).action(async (arg: string, flags: IntrospectFlags) => {
    const token = await readTokenArg(arg);
    return withBroker(flags, ctx, async (client) => {
      const answer = await client.introspect(token, flags.tokenTypeHint);
      ctx.result({ ...answer });
      if (flags.requireActive === true && answer.active !== true) throw new AlreadyReported(1);
    });
  });
}
