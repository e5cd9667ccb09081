/**
 * The SQL of the revocation feed (ISSUE 4, "Everywhere, fast"): revocation-relevant ledger events
 * after a position, with the `jti` of task tokens, and the checks that make the feed's order safe to
 * resume from (see `migrations/20261121001010_revocation-notify.up.sql`).
 *
 * @packageDocumentation
 */
import type { LedgerEventType } from './issuance-store.js';
import { withStoreErrors } from './sql-errors.js';
import type { SqlQueryable } from './sql-executor.js';

/** The NOTIFY channel the ledger trigger signals on; the payload is the event's `seq`. */
export const REVOCATION_CHANNEL = 'taskpass_revocations';

/**
 * The event types the feed carries: the ones that make a credential or a task's tokens unusable.
 * Exactly the types of the trigger's WHEN clause (a test keeps the two equal).
 */
export const REVOCATION_EVENT_TYPES: readonly LedgerEventType[] = Object.freeze([
  'credential.revoked',
  'credential.revoke_failed',
  'task.completed',
  'task.failed',
  'task.expired',
  'task.revoked',
  'workload.quarantined',
]);

/** One revocation-relevant ledger event, as read. `seq` is a decimal string (bigint). */
export interface RevocationEventRow {
  readonly seq: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly taskId: string | null;
  readonly credentialId: string | null;
  readonly workload: string | null;
  readonly provider: string | null;
  /** The task token id, for a credential whose revocation handle has one (the `jwt` provider). */
  readonly jti: string | null;
  /**
   * When the event stops mattering: the credential's expiry for a credential event, the task's
   * deadline for a task event (no token of a task outlives its deadline: DESIGN invariant 2).
   */
  readonly expiresAt: Date | null;
}

/** Which events {@link readRevocationEvents} returns. */
export interface RevocationEventRange {
  /** Events with `seq` greater than this (a non-negative decimal string). */
  readonly after: string;
  /** And not greater than this, when given. */
  readonly upTo?: string;
  /** And that occurred at or after this time, when given. */
  readonly since?: Date;
  /** At most this many, oldest first (1..1000). */
  readonly limit: number;
}

/** The events read, and the transaction ids in progress in the snapshot that read them. */
export interface RevocationEventBatch {
  readonly events: readonly RevocationEventRow[];
  /** `pg_snapshot_xip` of the reading statement's snapshot, as decimal strings (xid8). */
  readonly inProgress: readonly string[];
}

interface Row {
  xip: string[];
  seq: string | null;
  type: string;
  occurred_at: Date;
  task_id: string | null;
  credential_id: string | null;
  workload: string | null;
  provider: string | null;
  jti: string | null;
  expires_at: Date | null;
}

// One statement, so the events and the in-progress list come from the same snapshot
// (pg_current_snapshot() is the statement's snapshot under READ COMMITTED).
const READ_SQL = `
WITH snap AS (
  SELECT ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS xip
)
SELECT snap.xip, ev.* FROM snap LEFT JOIN LATERAL (
  SELECT e.seq::text AS seq, e.type, e.occurred_at, e.task_id::text AS task_id,
         e.credential_id::text AS credential_id, e.workload, e.provider,
         c.revocation_handle ->> 'jti' AS jti,
         CASE WHEN e.credential_id IS NOT NULL THEN c.expires_at ELSE t.deadline END AS expires_at
  FROM ledger_events e
  LEFT JOIN credentials c ON c.id = e.credential_id
  LEFT JOIN tasks t ON t.id = e.task_id
  WHERE e.seq > $1::bigint AND e.type = ANY($2::text[])
    AND ($3::bigint IS NULL OR e.seq <= $3::bigint)
    AND ($4::timestamptz IS NULL OR e.occurred_at >= $4::timestamptz)
  ORDER BY e.seq
  LIMIT $5
) ev ON true
ORDER BY ev.seq::bigint`;

/**
 * Reads revocation-relevant events in `range`, oldest first, with the jti of each credential's task
 * token, and the in-progress transaction ids of the same snapshot (for {@link feedBlockers}).
 *
 * @throws {BrokerError} `BROKER_STORE_*`.
 */
export function readRevocationEvents(
  db: SqlQueryable,
  range: RevocationEventRange,
): Promise<RevocationEventBatch> {
  return withStoreErrors(async () => {
    const res = await db.query<Row>(READ_SQL, [
      range.after,
      [...REVOCATION_EVENT_TYPES],
      range.upTo ?? null,
      range.since ?? null,
      range.limit,
    ]);
    const events = res.rows
      .filter((r): r is Row & { seq: string } => r.seq !== null)
      .map((r) => ({
        seq: r.seq,
        type: r.type,
        occurredAt: r.occurred_at,
        taskId: r.task_id,
        credentialId: r.credential_id,
        workload: r.workload,
        provider: r.provider,
        jti: r.jti,
        expiresAt: r.expires_at,
      }));
    return { events, inProgress: res.rows[0]?.xip ?? [] };
  });
}

/** The newest ledger position (any event type), and the in-progress transactions of that snapshot. */
export function readLedgerHead(db: SqlQueryable): Promise<{ seq: string; inProgress: readonly string[] }> {
  return withStoreErrors(async () => {
    const res = await db.query<{ seq: string; xip: string[] }>(
      `SELECT coalesce((SELECT max(seq) FROM ledger_events), 0)::text AS seq,
              ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS xip`,
    );
    const row = res.rows[0];
    return { seq: row?.seq ?? '0', inProgress: row?.xip ?? [] };
  });
}

// Transactions among $1 that hold the feed's in-flight mark (the trigger's shared advisory lock of
// this schema): their transaction-id lock shares the mark's virtual transaction.
const MARKED_SQL = `
SELECT x FROM unnest($1::text[]) AS x
WHERE xid(x::xid8) IN (
  SELECT t.transactionid FROM pg_locks a
  JOIN pg_locks t ON t.virtualtransaction = a.virtualtransaction AND t.locktype = 'transactionid'
  WHERE a.locktype = 'advisory' AND a.granted AND a.objsubid = 2
    AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND a.classid = 1953526374::oid
    AND a.objid = ((hashtext(current_schema())::bigint + 4294967296) % 4294967296)::oid
)`;

const STATUS_SQL = `SELECT x, pg_xact_status(x::xid8) AS status FROM unnest($1::text[]) AS x`;

/** What stands between a read and the certainty that no earlier revocation event can still commit. */
export interface FeedBlockers {
  /** Marked transactions still running: a revocation event of theirs may commit with a lower seq. */
  readonly running: readonly string[];
  /** Transactions that committed since the read: a fresh read sees what they wrote. */
  readonly committedSince: boolean;
}

/**
 * Given the in-progress transactions of a read's snapshot, which of them could still add a
 * revocation event with a seq below what that read saw. The marks are read BEFORE the statuses: a
 * writer of such an event holds its mark from before its seq was drawn until it ends, so one found
 * running and unmarked at status time was unmarked (and is not such a writer), and one that ended in
 * between shows as committed (or aborted).
 *
 * @throws {BrokerError} `BROKER_STORE_*`.
 */
export function feedBlockers(db: SqlQueryable, inProgress: readonly string[]): Promise<FeedBlockers> {
  if (inProgress.length === 0) return Promise.resolve({ running: [], committedSince: false });
  return withStoreErrors(async () => {
    const marked = new Set(
      (await db.query<{ x: string }>(MARKED_SQL, [[...inProgress]])).rows.map((r) => r.x),
    );
    const statuses = (await db.query<{ x: string; status: string | null }>(STATUS_SQL, [[...inProgress]]))
      .rows;
    return {
      running: statuses.filter((s) => s.status === 'in progress' && marked.has(s.x)).map((s) => s.x),
      committedSince: statuses.some((s) => s.status === 'committed'),
    };
  });
}

/**
 * Which of `xids` are still in progress.
 *
 * @throws {BrokerError} `BROKER_STORE_*`.
 */
export function stillRunning(db: SqlQueryable, xids: readonly string[]): Promise<string[]> {
  if (xids.length === 0) return Promise.resolve([]);
  return withStoreErrors(async () =>
    (await db.query<{ x: string; status: string | null }>(STATUS_SQL, [[...xids]])).rows
      .filter((s) => s.status === 'in progress')
      .map((s) => s.x),
  );
}
