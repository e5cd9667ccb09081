import { BrokerError } from '../errors.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { EndedTask, EndedTaskStatus, NewTask, Page, TaskFilter, TaskRecord } from './issuance-store.js';
import { revocationDetails } from './exposure.js';
import { insertEvents } from './ledger-sql.js';
import { assertNotQuarantinedTx } from './quarantine-sql.js';
import type { CredentialDisposition } from './revocation-store.js';
import { enqueueRevocations } from './revocation-queue-sql.js';
import type { SqlQueryable } from './sql-executor.js';
import { isUuid, toCredential, toTask, type CredentialRow, type TaskRow } from './task-rows.js';

// Advisory lock namespace ("tpqt") for the active-tasks quota; the second key is the workload.
const QUOTA_LOCK = 'SELECT pg_advisory_xact_lock(1953526132, hashtext($1))';

/** Counts a workload's ($1) active tasks whose deadline is after $2 (the active-tasks quota). */
export const ACTIVE_TASKS_SQL =
  "SELECT count(*)::int AS n FROM tasks WHERE workload = $1 AND status = 'active' AND deadline > $2";

async function checkQuota(tx: SqlQueryable, task: NewTask): Promise<void> {
  if (task.maxActiveTasks === undefined) return;
  // Serialize task creation per workload so two concurrent starts cannot both pass the count.
  await tx.query(QUOTA_LOCK, [task.workload.toString()]);
  const res = await tx.query<{ n: number }>(ACTIVE_TASKS_SQL, [task.workload.toString(), task.now]);
  if ((res.rows[0]?.n ?? 0) >= task.maxActiveTasks) {
    throw new BrokerError('BROKER_POLICY_QUOTA_EXCEEDED', 'active tasks per workload');
  }
}

async function checkParent(tx: SqlQueryable, parentId: string, now: Date): Promise<void> {
  // FOR KEY SHARE: the parent cannot disappear, but may still end concurrently (delegation is a
  // snapshot decision; ending the parent revokes its own credentials, not the child's).
  const res = await tx.query<{ status: string; deadline: Date }>(
    'SELECT status, deadline FROM tasks WHERE id = $1 FOR KEY SHARE',
    [parentId],
  );
  const parent = res.rows[0];
  if (!parent) throw new BrokerError('BROKER_TASK_NOT_FOUND', 'parent task');
  if (parent.status !== 'active' || parent.deadline <= now) {
    throw new BrokerError('BROKER_TASK_ALREADY_ENDED', 'parent task');
  }
}

/** Inserts a task and its `task.started` event in the caller's transaction. */
export async function createTaskTx(tx: SqlQueryable, task: NewTask): Promise<TaskRecord> {
  // A quarantined workload starts nothing (ISSUE 4); checked under the workload's quarantine lock.
  await assertNotQuarantinedTx(tx, task.workload);
  await checkQuota(tx, task);
  if (task.parent) await checkParent(tx, task.parent, task.now);
  const res = await tx.query<TaskRow>(
    `INSERT INTO tasks (id, workload, intent_name, intent_text, manifest, deadline, parent_task_id, created_at)
     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8) RETURNING *`,
    [
      task.id,
      task.workload.toString(),
      task.intent.name,
      task.intent.text ?? '',
      JSON.stringify(task.manifest),
      task.deadline,
      task.parent ?? null,
      task.now,
    ],
  );
  const created = toTask(res.rows[0] as TaskRow);
  await insertEvents(tx, [
    {
      type: 'task.started',
      occurredAt: task.now,
      workload: task.workload,
      taskId: task.id,
      decision: 'allow',
      rule: task.rule ?? null,
      details: {
        intent: task.intent.name,
        deadline: task.deadline.toISOString(),
        parent_task_id: task.parent ?? null,
        providers: task.manifest.map((m) => m.provider),
      },
    },
  ]);
  return created;
}

/** The active credentials of the tasks, read in the caller's transaction after their status change. */
async function activeCredentials(tx: SqlQueryable, taskIds: readonly string[]) {
  const res = await tx.query<CredentialRow>(
    "SELECT * FROM credentials WHERE task_id = ANY($1::uuid[]) AND status = 'active' ORDER BY issued_at, id",
    [[...taskIds]],
  );
  return res.rows.map(toCredential);
}

/** Ends one task (status change, event, active credentials) in the caller's transaction. */
export async function endTaskTx(
  tx: SqlQueryable,
  input: { id: string; status: EndedTaskStatus; reason: string; now: Date; workload?: SpiffeId },
): Promise<EndedTask> {
  // The UPDATE waits for a concurrent issuance's row lock, then re-checks status: an issuance that
  // committed first is seen by the credentials read below, one that comes after finds the task ended.
  const res = await tx.query<TaskRow>(
    `UPDATE tasks SET status = $2, ended_at = $3, end_reason = $4
     WHERE id = $1 AND status = 'active' AND ($5::text IS NULL OR workload = $5) RETURNING *`,
    [input.id, input.status, input.now, input.reason, input.workload?.toString() ?? null],
  );
  const row = res.rows[0];
  if (!row) {
    const found = await tx.query<{ workload: string }>('SELECT workload FROM tasks WHERE id = $1', [
      input.id,
    ]);
    const owner = found.rows[0]?.workload;
    if (owner === undefined || (input.workload && owner !== input.workload.toString())) {
      throw new BrokerError('BROKER_TASK_NOT_FOUND');
    }
    throw new BrokerError('BROKER_TASK_ALREADY_ENDED');
  }
  const task = toTask(row);
  const credentials = await activeCredentials(tx, [task.id]);
  // Queued in this transaction: once the task has ended, its revocations cannot be lost (ISSUE 4).
  const queued = await enqueueRevocations(tx, credentials, {
    now: input.now,
    reason: `task ${input.status}`,
    revocationId: null,
  });
  await insertEvents(tx, [endEvent(task, input.reason, queued)]);
  return { task, activeCredentials: credentials };
}

function endEvent(task: TaskRecord, reason: string, credentials: readonly CredentialDisposition[]) {
  const endedAt = task.endedAt as Date;
  return {
    type: `task.${task.status as EndedTaskStatus}` as const,
    occurredAt: endedAt,
    workload: task.workload,
    taskId: task.id,
    reason,
    details: revocationDetails(credentials, endedAt),
  };
}

/** Claims and expires due tasks with `FOR UPDATE SKIP LOCKED`, in the caller's transaction. */
export async function expireDueTasksTx(tx: SqlQueryable, now: Date, limit: number): Promise<EndedTask[]> {
  const reason = 'deadline passed';
  const res = await tx.query<TaskRow>(
    `WITH due AS (
       SELECT id FROM tasks WHERE status = 'active' AND deadline <= $1
       ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE tasks t SET status = 'expired', ended_at = $1, end_reason = $3
     FROM due WHERE t.id = due.id RETURNING t.*`,
    [now, limit, reason],
  );
  if (res.rows.length === 0) return [];
  const tasks = res.rows.map(toTask);
  const credentials = await activeCredentials(
    tx,
    tasks.map((t) => t.id),
  );
  const ended = tasks.map((task) => ({
    task,
    activeCredentials: credentials.filter((c) => c.taskId === task.id),
  }));
  const queued = await enqueueRevocations(tx, credentials, {
    now,
    reason: 'task expired',
    revocationId: null,
  });
  await insertEvents(
    tx,
    ended.map((e) =>
      endEvent(
        e.task,
        reason,
        queued.filter((d) => d.credential.taskId === e.task.id),
      ),
    ),
  );
  return ended;
}

/** Lists tasks newest first, keyset on (created_at, id). */
export async function listTasksQuery(db: SqlQueryable, filter: TaskFilter): Promise<Page<TaskRecord>> {
  const limit = pageLimit(filter.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.workload) where.push(`workload = $${params.push(filter.workload.toString())}`);
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.cursor) {
    const [at, id] = decodeCursor('t', filter.cursor, ['string', 'string']) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new BrokerError('BROKER_LEDGER_BAD_CURSOR');
    where.push(`(created_at, id) < ($${params.push(date)}, $${params.push(id)}::uuid)`);
  }
  const res = await db.query<TaskRow>(
    `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
    params,
  );
  const items = res.rows.slice(0, limit).map(toTask);
  const last = items.at(-1);
  const more = res.rows.length > limit && last;
  return { items, nextCursor: more ? encodeCursor('t', [last.createdAt.toISOString(), last.id]) : null };
}
