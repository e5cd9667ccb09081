import { BrokerError } from '../errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { insertEvents } from './ledger-sql.js';
import type { QuarantineRecord } from './revocation-store.js';
import type { SqlQueryable } from './sql-executor.js';

// Advisory lock namespace ("tpqr"); the second key is the workload. Task starts take it SHARED (they
// do not wait on each other), a quarantine EXCLUSIVE. So a start either commits before the quarantine
// begins revoking (and its task is revoked with the others) or checks after the quarantine committed
// (and is refused): no task can slip in between the check and the revocation.
const LOCK_NS = 1953526130;

interface QuarantineRow {
  id: string;
  workload: string;
  reason: string;
  quarantined_by: string;
  since: Date;
  lifted_at: Date | null;
}

function toQuarantine(row: QuarantineRow): QuarantineRecord {
  return {
    id: row.id,
    workload: SpiffeId.parse(row.workload),
    reason: row.reason,
    by: row.quarantined_by,
    since: row.since,
    liftedAt: row.lifted_at,
  };
}

const IN_FORCE = 'SELECT * FROM quarantines WHERE workload = $1 AND lifted_at IS NULL';

/**
 * Refuses a task start for a quarantined workload, in the start's transaction. Two statements on
 * purpose: under READ COMMITTED a statement's snapshot is taken when it starts, so the EXISTS must
 * run after the shared lock is granted to see a quarantine that committed while we waited.
 *
 * @throws {BrokerError} `BROKER_WORKLOAD_QUARANTINED`.
 */
export async function assertNotQuarantinedTx(tx: SqlQueryable, workload: SpiffeId): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [LOCK_NS, workload.toString()]);
  const res = await tx.query<{ q: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM quarantines WHERE workload = $1 AND lifted_at IS NULL) AS q',
    [workload.toString()],
  );
  if (res.rows[0]?.q === true) throw new BrokerError('BROKER_WORKLOAD_QUARANTINED');
}

/**
 * Takes the workload's exclusive lock and inserts the quarantine (with its `workload.quarantined`
 * event) unless one is in force, in the caller's transaction; the caller then revokes the tasks.
 */
export async function insertQuarantineTx(
  tx: SqlQueryable,
  input: { id: string; workload: SpiffeId; reason: string; by: string; now: Date; revocationId: string },
): Promise<{ quarantine: QuarantineRecord; created: boolean }> {
  const workload = input.workload.toString();
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS, workload]);
  const existing = await tx.query<QuarantineRow>(IN_FORCE, [workload]);
  if (existing.rows[0]) return { quarantine: toQuarantine(existing.rows[0]), created: false };
  const res = await tx.query<QuarantineRow>(
    `INSERT INTO quarantines (id, workload, reason, quarantined_by, since) VALUES ($1, $2, $3, $4, $5)
     RETURNING *`,
    [input.id, workload, input.reason, input.by, input.now],
  );
  await insertEvents(tx, [
    {
      type: 'workload.quarantined',
      occurredAt: input.now,
      workload: input.workload,
      reason: input.reason,
      details: { quarantine_id: input.id, by: input.by, revocation_id: input.revocationId },
    },
  ]);
  return { quarantine: toQuarantine(res.rows[0] as QuarantineRow), created: true };
}

/** Lifts the quarantine in force (with its `workload.quarantine_lifted` event), in the caller's transaction. */
export async function liftQuarantineTx(
  tx: SqlQueryable,
  input: { workload: SpiffeId; reason: string; by: string; now: Date },
): Promise<QuarantineRecord | undefined> {
  const res = await tx.query<QuarantineRow>(
    `UPDATE quarantines SET lifted_at = $2, lifted_by = $3, lift_reason = $4
     WHERE workload = $1 AND lifted_at IS NULL RETURNING *`,
    [input.workload.toString(), input.now, input.by, input.reason],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  await insertEvents(tx, [
    {
      type: 'workload.quarantine_lifted',
      occurredAt: input.now,
      workload: input.workload,
      reason: input.reason,
      details: { quarantine_id: row.id, by: input.by, since: row.since.toISOString() },
    },
  ]);
  return toQuarantine(row);
}

/** Quarantines in force, oldest first. */
export async function listQuarantinesQuery(db: SqlQueryable): Promise<QuarantineRecord[]> {
  const res = await db.query<QuarantineRow>(
    'SELECT * FROM quarantines WHERE lifted_at IS NULL ORDER BY since, id',
  );
  return res.rows.map(toQuarantine);
}

/** Whether a quarantine of `workload` is in force. */
export async function isQuarantinedQuery(db: SqlQueryable, workload: SpiffeId): Promise<boolean> {
  const res = await db.query<QuarantineRow>(IN_FORCE, [workload.toString()]);
  return res.rows.length > 0;
}
