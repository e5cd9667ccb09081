import { BrokerError } from '../errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { LedgerEventInput } from './issuance-store.js';
import { exposedUntil, revocationDetails } from './exposure.js';
import { insertEvents } from './ledger-sql.js';
import { enqueueRevocations } from './revocation-queue-sql.js';
import type {
  CredentialDisposition,
  RevocationRequest,
  RevokedTasks,
  TaskSelection,
} from './revocation-store.js';
import type { SqlQueryable } from './sql-executor.js';
import { isUuid, toCredential, toTask, type CredentialRow, type TaskRow } from './task-rows.js';

/** `LIKE` pattern of a literal prefix (`\` escapes `%`, `_` and itself). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The root tasks of a selection: one task (any status), or the active tasks matching every filter. */
async function selectRoots(tx: SqlQueryable, selection: TaskSelection): Promise<string[]> {
  if (selection.taskId !== undefined) {
    if (!isUuid(selection.taskId)) throw new BrokerError('BROKER_TASK_NOT_FOUND');
    const res = await tx.query<{ id: string }>('SELECT id FROM tasks WHERE id = $1', [selection.taskId]);
    if (res.rows.length === 0) throw new BrokerError('BROKER_TASK_NOT_FOUND');
    return [selection.taskId];
  }
  const where = ["status = 'active'"];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => where.push(sql.replace('?', `$${params.push(value)}`));
  if (selection.workload) add('workload = ?', selection.workload.toString());
  if (selection.workloadPrefix) add("workload LIKE ? ESCAPE '\\'", likePrefix(selection.workloadPrefix));
  if (selection.startedBefore) add('created_at < ?', selection.startedBefore);
  if (selection.provider) {
    add(
      "EXISTS (SELECT 1 FROM credentials c WHERE c.task_id = tasks.id AND c.status = 'active' AND c.provider = ?)",
      selection.provider,
    );
  }
  const res = await tx.query<{ id: string; workload: string }>(
    `SELECT id, workload FROM tasks WHERE ${where.join(' AND ')}`,
    params,
  );
  const accept = selection.accept;
  return res.rows.filter((r) => !accept || accept(SpiffeId.parse(r.workload))).map((r) => r.id);
}

/**
 * Revokes the roots and every active descendant (delegated sub-tasks, through `parent_task_id`). Rows
 * are locked in id order so two overlapping revocations cannot deadlock; the status is re-checked
 * after each lock, so a task that ended meanwhile is left as it ended.
 */
async function revokeTree(tx: SqlQueryable, roots: readonly string[], request: RevocationRequest) {
  if (roots.length === 0) return [];
  const res = await tx.query<TaskRow>(
    `WITH RECURSIVE tree AS (
       SELECT id FROM tasks WHERE id = ANY($1::uuid[])
       UNION
       SELECT t.id FROM tasks t JOIN tree ON t.parent_task_id = tree.id),
     locked AS (
       SELECT id FROM tasks WHERE id IN (SELECT id FROM tree) AND status = 'active' ORDER BY id FOR UPDATE)
     UPDATE tasks t SET status = 'revoked', ended_at = $2, end_reason = $3
     FROM locked WHERE t.id = locked.id AND t.status = 'active'
     RETURNING t.*`,
    [[...roots], request.now, request.reason.slice(0, 1024)],
  );
  return res.rows.map(toTask).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** The `revocation.requested` event of an operator (or anomaly) request. */
export function requestEvent(
  request: RevocationRequest,
  outcome: { tasks: number; credentials: readonly CredentialDisposition[] },
  refs: Pick<LedgerEventInput, 'workload' | 'taskId' | 'credentialId' | 'provider'> = {},
): LedgerEventInput {
  const until = exposedUntil(outcome.credentials, request.now);
  return {
    type: 'revocation.requested',
    occurredAt: request.now,
    ...refs,
    decision: 'allow',
    reason: request.reason,
    rule: request.rule ?? null,
    details: {
      revocation_id: request.revocationId,
      by: request.by,
      target: request.target ?? {},
      tasks: outcome.tasks,
      credentials: outcome.credentials.length,
      queued: outcome.credentials.filter((d) => d.disposition === 'queued').length,
      exposed_until: until === null ? null : until.toISOString(),
    },
  };
}

/**
 * Revokes the selected tasks in the caller's transaction: status `revoked`, one `task.revoked` event
 * each (linked by `revocation_id`), their active credentials queued or reported not revocable, and a
 * `revocation.requested` event when the request names its target.
 *
 * @throws {BrokerError} `BROKER_TASK_NOT_FOUND` for a `taskId` that does not exist.
 */
export async function revokeTasksTx(
  tx: SqlQueryable,
  selection: TaskSelection,
  request: RevocationRequest,
): Promise<RevokedTasks> {
  const tasks = await revokeTree(tx, await selectRoots(tx, selection), request);
  const res =
    tasks.length === 0
      ? { rows: [] as CredentialRow[] }
      : await tx.query<CredentialRow>(
          `SELECT * FROM credentials WHERE task_id = ANY($1::uuid[]) AND status = 'active'
           ORDER BY issued_at, id`,
          [tasks.map((t) => t.id)],
        );
  const credentials = await enqueueRevocations(tx, res.rows.map(toCredential), {
    now: request.now,
    reason: request.reason,
    revocationId: request.revocationId,
  });
  const events: LedgerEventInput[] = tasks.map((task) => ({
    type: 'task.revoked',
    occurredAt: request.now,
    workload: task.workload,
    taskId: task.id,
    reason: request.reason,
    details: {
      revocation_id: request.revocationId,
      by: request.by,
      ...revocationDetails(
        credentials.filter((d) => d.credential.taskId === task.id),
        request.now,
      ),
    },
  }));
  if (request.target !== undefined) {
    const single = selection.taskId !== undefined ? { taskId: selection.taskId } : {};
    const workload = selection.workload ? { workload: selection.workload } : {};
    events.push(requestEvent(request, { tasks: tasks.length, credentials }, { ...single, ...workload }));
  }
  await insertEvents(tx, events);
  return { tasks, credentials };
}

/**
 * Queues one credential in the caller's transaction (its task is left as it is), with the request's
 * `revocation.requested` event.
 *
 * @throws {BrokerError} `BROKER_CREDENTIAL_NOT_FOUND`.
 */
export async function revokeCredentialTx(
  tx: SqlQueryable,
  credentialId: string,
  request: RevocationRequest,
): Promise<CredentialDisposition> {
  if (!isUuid(credentialId)) throw new BrokerError('BROKER_CREDENTIAL_NOT_FOUND');
  const res = await tx.query<CredentialRow & { workload: string }>(
    `SELECT c.*, t.workload FROM credentials c JOIN tasks t ON t.id = c.task_id
     WHERE c.id = $1 FOR NO KEY UPDATE OF c`,
    [credentialId],
  );
  const row = res.rows[0];
  if (!row) throw new BrokerError('BROKER_CREDENTIAL_NOT_FOUND');
  const [disposition] = await enqueueRevocations(tx, [toCredential(row)], {
    now: request.now,
    reason: request.reason,
    revocationId: request.revocationId,
  });
  const done = disposition as CredentialDisposition;
  await insertEvents(tx, [
    requestEvent(
      request,
      { tasks: 0, credentials: [done] },
      {
        workload: SpiffeId.parse(row.workload),
        taskId: row.task_id,
        credentialId: row.id,
        provider: row.provider,
      },
    ),
  ]);
  return done;
}
