import type { Command } from 'commander';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import type { CommandContext } from '../program.js';
import { formatTable } from '../table.js';

interface QuarantineFlags extends BrokerFlags {
  reason?: string;
  lift?: boolean;
}

/**
 * `taskpass quarantine SPIFFE_ID --reason TEXT [--lift]` and `taskpass quarantines ls` (operators). A
 * quarantined workload's tasks are revoked and it can start no more until the quarantine is lifted.
 */
export function registerQuarantineCommands(program: Command, ctx: CommandContext): void {
  withBrokerFlags(
    program
      .command('quarantine')
      .argument('<spiffe-id>', 'the workload')
      .description('quarantine a workload (its tasks are revoked), or lift its quarantine (as an operator)')
      .option('--reason <text>', 'why (recorded in the ledger)')
      .option('--lift', 'lift the quarantine instead'),
  ).action((id: string, flags: QuarantineFlags) => {
    const workload = SpiffeId.parse(id).toString();
    if (flags.reason === undefined || flags.reason.trim() === '')
      throw new BrokerError('BROKER_CLI_USAGE', '--reason is required');
    const request = { workload, reason: flags.reason };
    return withBroker(flags, ctx, async (client) => {
      if (!flags.lift) return ctx.result({ ...(await client.quarantine(request)) });
      await client.liftQuarantine(request);
      ctx.result({ workload, lifted: true });
    });
  });
  const quarantines = program
    .command('quarantines')
    .description('list quarantined workloads (as an operator)');
  withBrokerFlags(quarantines.command('ls').description('list quarantined workloads')).action(
    (flags: BrokerFlags) =>
      withBroker(flags, ctx, async (client) => {
        const list = await client.listQuarantines();
        if (ctx.json()) return ctx.result({ ...list });
        ctx.io.stdout(formatTable(list.quarantines, ['workload', 'since', 'by', 'reason']) + '\n');
      }),
  );
}
