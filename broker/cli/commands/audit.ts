import type { Command } from 'commander';
import type { TaskpassClient } from '../../../client/client.js';
import type { AuditQuery, LedgerEvent } from '../../../client/types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { collect, positiveInt, withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import { AlreadyReported } from '../output.js';
import type { CommandContext } from '../program.js';
import { formatTable } from '../table.js';

interface QueryFlags extends BrokerFlags {
  workload?: string;
  task?: string;
  credential?: string;
  provider?: string;
  type?: string[];
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
  format: string;
}

const COLUMNS = [
  'seq',
  'occurred_at',
  'type',
  'workload',
  'task_id',
  'credential_id',
  'provider',
  'decision',
  'reason',
];

/** The API query of the flags (the broker validates types and times, and answers coded errors). */
function queryOf(flags: QueryFlags): AuditQuery {
  const limit = positiveInt('--limit', flags.limit);
  return {
    ...(flags.workload !== undefined && { workload: SpiffeId.parse(flags.workload).toString() }),
    ...(flags.task !== undefined && { task_id: flags.task }),
    ...(flags.credential !== undefined && { credential_id: flags.credential }),
    ...(flags.provider !== undefined && { provider: flags.provider }),
    ...(flags.type !== undefined && { type: flags.type }),
    ...(flags.from !== undefined && { from: flags.from }),
    ...(flags.to !== undefined && { to: flags.to }),
    ...(limit !== undefined && { limit }),
    ...(flags.cursor !== undefined && { cursor: flags.cursor }),
  };
}

/** One page, or with `all` every page from the cursor on, as CSV (one header row). */
async function queryCsv(client: TaskpassClient, query: AuditQuery, all: boolean): Promise<string> {
  let page = await client.auditQueryCsv(query);
  let csv = page.csv;
  while (all && page.next_cursor !== null) {
    page = await client.auditQueryCsv({ ...query, cursor: page.next_cursor });
    // Every page starts with the same header row (column names, no quoted newlines): keep the first.
    csv += page.csv.slice(page.csv.indexOf('\n') + 1);
  }
  return csv;
}

/** One page, or with `all` every page from the cursor on, as JSON events. */
async function queryJson(
  client: TaskpassClient,
  query: AuditQuery,
  all: boolean,
): Promise<{ events: LedgerEvent[]; next_cursor: string | null }> {
  let page = await client.auditQuery(query);
  const events = [...page.events];
  while (all && page.next_cursor !== null) {
    page = await client.auditQuery({ ...query, cursor: page.next_cursor });
    events.push(...page.events);
  }
  return { events, next_cursor: page.next_cursor };
}

/**
 * `taskpass audit query [filters] [--all] [--format json|csv]` and `taskpass audit verify` (auditors).
 * `verify` prints the chain verification and exits 1 when the chain is broken, so scripts can gate on it.
 */
export function registerAuditCommands(program: Command, ctx: CommandContext): void {
  const audit = program.command('audit').description('query and verify the ledger (as an auditor)');
  withBrokerFlags(
    audit
      .command('query')
      .description('ledger events, oldest first: who got what, when, why, and when it died')
      .option('--workload <spiffe-id>', "only this workload's events")
      .option('--task <id>', "only this task's events")
      .option('--credential <id>', "only this credential's events")
      .option('--provider <name>', "only this provider's events")
      .option('--type <type>', 'only this event type, e.g. credential.issued (repeatable)', collect)
      .option('--from <rfc3339>', 'events at or after this time')
      .option('--to <rfc3339>', 'events before this time')
      .option('--limit <n>', 'page size')
      .option('--cursor <cursor>', 'the next_cursor of the previous page')
      .option('--all', 'follow the cursor to the last page')
      .option('--format <format>', 'json or csv', 'json'),
  ).action((flags: QueryFlags) => {
    if (flags.format !== 'json' && flags.format !== 'csv')
      throw new BrokerError('BROKER_CLI_USAGE', '--format takes json or csv');
    const query = queryOf(flags);
    const all = flags.all === true;
    return withBroker(flags, ctx, async (client) => {
      if (flags.format === 'csv') return ctx.io.stdout(await queryCsv(client, query, all));
      const result = await queryJson(client, query, all);
      if (ctx.json()) return ctx.result(result);
      ctx.io.stdout(formatTable(result.events, COLUMNS) + '\n');
      if (result.next_cursor !== null) ctx.io.stdout(`next_cursor: ${result.next_cursor}\n`);
    });
  });
  withBrokerFlags(
    audit
      .command('verify')
      .description('verify the hash chain of the ledger; exits 1 and names the first bad event if broken'),
  ).action((flags: BrokerFlags) =>
    withBroker(flags, ctx, async (client) => {
      const result = await client.auditVerify();
      ctx.result({ ...result });
      if (!result.ok) throw new AlreadyReported(1);
    }),
  );
}
