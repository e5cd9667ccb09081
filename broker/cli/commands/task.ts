import type { Command } from 'commander';
import type { TaskStatus } from '../../../client/types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { parseDurationSeconds } from '../../domain/duration.js';
import { BrokerError } from '../../errors.js';
import { collect, positiveInt, withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import { parseManifestFlags } from '../manifest-flag.js';
import type { CommandContext } from '../program.js';
import { formatTable } from '../table.js';

interface StartFlags extends BrokerFlags {
  intent: string;
  text?: string;
  manifest?: string[];
  ttl?: string;
  parent?: string;
}

interface ListFlags extends BrokerFlags {
  workload?: string;
  status?: string;
  limit?: string;
  cursor?: string;
}

const STATUSES: readonly TaskStatus[] = ['active', 'completed', 'failed', 'expired', 'revoked'];

/**
 * `taskpass task start|show|complete|fail` (as a workload) and `taskpass tasks ls` (as an operator),
 * over the broker's HTTP API (DESIGN.md "Interfaces: CLI"). Each prints the task as the API shows it.
 */
export function registerTaskCommands(program: Command, ctx: CommandContext): void {
  const task = program.command('task').description('start, show, complete or fail a task (as a workload)');
  withBrokerFlags(
    task
      .command('start')
      .description('start a task: its intent and the providers and scopes it will need')
      .requiredOption('--intent <name>', 'intent name the policy knows')
      .option('--text <text>', 'free text: what the task is for')
      .option('--manifest <provider:scope,...>', 'a provider and its scopes (repeatable)', collect)
      .option('--ttl <duration>', 'requested task lifetime, e.g. 10m (the policy maximum applies)')
      .option('--parent <task-id>', 'the delegating task, for a sub-task'),
  ).action((flags: StartFlags) => {
    const manifest = parseManifestFlags(flags.manifest ?? []);
    const ttl = flags.ttl === undefined ? undefined : parseDurationSeconds(flags.ttl);
    return withBroker(flags, ctx, async (client) => {
      const started = await client.startTask({
        intent: { name: flags.intent, ...(flags.text !== undefined && { text: flags.text }) },
        manifest,
        ...(ttl !== undefined && { ttl_seconds: ttl }),
        ...(flags.parent !== undefined && { parent_task_id: flags.parent }),
      });
      ctx.result({ ...started });
    });
  });
  withBrokerFlags(
    task.command('show').argument('<id>', 'task id').description('show a task and its status'),
  ).action((id: string, flags: BrokerFlags) =>
    withBroker(flags, ctx, async (client) => ctx.result({ ...(await client.getTask(id)) })),
  );
  withBrokerFlags(
    task
      .command('complete')
      .argument('<id>', 'task id')
      .description('complete a task: every credential it minted is revoked'),
  ).action((id: string, flags: BrokerFlags) =>
    withBroker(flags, ctx, async (client) => ctx.result({ ...(await client.completeTask(id)) })),
  );
  withBrokerFlags(
    task
      .command('fail')
      .argument('<id>', 'task id')
      .description('fail a task: every credential it minted is revoked')
      .option('--reason <text>', 'why it failed (recorded in the ledger)'),
  ).action((id: string, flags: BrokerFlags & { reason?: string }) =>
    withBroker(flags, ctx, async (client) => ctx.result({ ...(await client.failTask(id, flags.reason)) })),
  );
  registerTasksLs(program, ctx);
}

/** `taskpass tasks ls` (operators): newest first, one page (`--cursor` for the next). */
function registerTasksLs(program: Command, ctx: CommandContext): void {
  const tasks = program.command('tasks').description('list tasks (as an operator)');
  withBrokerFlags(
    tasks
      .command('ls')
      .description('list tasks, newest first')
      .option('--workload <spiffe-id>', "only this workload's tasks")
      .option('--status <status>', `only tasks in this status (${STATUSES.join(', ')})`)
      .option('--limit <n>', 'page size')
      .option('--cursor <cursor>', 'the next_cursor of the previous page'),
  ).action((flags: ListFlags) => {
    const limit = positiveInt('--limit', flags.limit);
    if (flags.status !== undefined && !STATUSES.includes(flags.status as TaskStatus))
      throw new BrokerError('BROKER_CLI_USAGE', `--status takes one of ${STATUSES.join(', ')}`);
    const workload = flags.workload === undefined ? undefined : SpiffeId.parse(flags.workload).toString();
    return withBroker(flags, ctx, async (client) => {
      const page = await client.listTasks({
        ...(workload !== undefined && { workload }),
        ...(flags.status !== undefined && { status: flags.status as TaskStatus }),
        ...(limit !== undefined && { limit }),
        ...(flags.cursor !== undefined && { cursor: flags.cursor }),
      });
      if (ctx.json()) return ctx.result({ ...page });
      const rows = page.tasks.map((t) => ({ ...t, intent: t.intent.name }));
      ctx.io.stdout(
        formatTable(rows, ['id', 'status', 'workload', 'intent', 'created_at', 'deadline']) + '\n',
      );
      if (page.next_cursor !== null) ctx.io.stdout(`next_cursor: ${page.next_cursor}\n`);
    });
  });
}
