import type { Command } from 'commander';
import type { RevocationTarget } from '../../../client/types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import type { CommandContext } from '../program.js';
import { parseSelectorFlag } from '../selector-flag.js';

interface RevokeFlags extends BrokerFlags {
  task?: string;
  credential?: string;
  workload?: string;
  selector?: string;
  reason?: string;
  yes?: boolean;
  retryFailed?: boolean;
}

const usage = (detail: string): BrokerError => new BrokerError('BROKER_CLI_USAGE', detail);

/**
 * The one target of a revocation from the flags.
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` unless exactly one target is given;
 *   {@link SpiffeError} for a bad `--workload`.
 */
function targetOf(flags: RevokeFlags): RevocationTarget {
  const given = [flags.task, flags.credential, flags.workload, flags.selector].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw usage('give exactly one of --task, --credential, --workload, --selector (or --retry-failed)');
  if (flags.task !== undefined) return { task_id: flags.task };
  if (flags.credential !== undefined) return { credential_id: flags.credential };
  if (flags.workload !== undefined) return { workload: SpiffeId.parse(flags.workload).toString() };
  return { selector: parseSelectorFlag(flags.selector!) };
}

/**
 * `taskpass revoke (--task ID | --credential ID | --workload SPIFFE_ID | --selector EXPR) --reason TEXT
 * [--yes]` (operators): revokes now and prints what ended and what each backend did
 * (`POST /v1/revocations`). `--yes` confirms a broad selector. `taskpass revoke --retry-failed
 * [--credential ID]` puts `revoke_failed` credentials back in the retry queue.
 */
export function registerRevokeCommand(program: Command, ctx: CommandContext): void {
  withBrokerFlags(
    program
      .command('revoke')
      .description('revoke a task, a credential, a workload or a selection of tasks now (as an operator)')
      .option('--task <id>', 'a task (and its sub-tasks)')
      .option('--credential <id>', 'one credential')
      .option('--workload <spiffe-id>', 'every task of a workload')
      .option(
        '--selector <expr>',
        'tasks matching key=value,… (prefix, glob, trust_domain, provider, started_before)',
      )
      .option('--reason <text>', 'why (recorded in the ledger)')
      .option('--yes', 'confirm a broad revocation (a whole trust domain, or every workload)')
      .option('--retry-failed', 'retry revoke_failed credentials (all, or the one of --credential)'),
  ).action((flags: RevokeFlags) => (flags.retryFailed ? retryFailed(flags, ctx) : revoke(flags, ctx)));
}

function revoke(flags: RevokeFlags, ctx: CommandContext): Promise<void> {
  const target = targetOf(flags);
  if (flags.reason === undefined || flags.reason.trim() === '') throw usage('--reason is required');
  const reason = flags.reason;
  return withBroker(flags, ctx, async (client) => {
    const result = await client.revoke({ ...target, reason, ...(flags.yes && { confirm: true }) });
    ctx.result({ ...result });
  });
}

function retryFailed(flags: RevokeFlags, ctx: CommandContext): Promise<void> {
  const extra = [flags.task, flags.workload, flags.selector, flags.reason, flags.yes];
  if (extra.some((v) => v !== undefined))
    throw usage(
      '--retry-failed takes only --credential (no --task, --workload, --selector, --reason, --yes)',
    );
  return withBroker(flags, ctx, async (client) => {
    const result = await client.retryFailedRevocations(
      flags.credential === undefined ? {} : { credential_id: flags.credential },
    );
    ctx.result({ ...result });
  });
}
