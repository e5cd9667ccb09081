import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type { CredentialRecord } from './issuance-store.js';
import { insertEvents } from './ledger-sql.js';
import type {
  ClaimedRevocation,
  CredentialDisposition,
  FailureRecord,
  QueueStats,
} from './revocation-store.js';
import type { SqlQueryable } from './sql-executor.js';

/**
 * Queues the backend revocation of `credentials` in the caller's transaction, which also holds the
 * state change that requires it (a task ending, an operator request): the two commit together, so
 * no revocation can be lost between a commit and a backend call (DESIGN invariant 3).
 *
 * Revocable credentials that are active or `revoke_failed` are queued, due at `now`; a row already
 * queued is made due now unless a worker holds it (its claim runs to completion). Expires-only ones
 * cannot be revoked and are reported `not_revocable` (their exposure ends at their expiry).
 */
export async function enqueueRevocations(
  tx: SqlQueryable,
  credentials: readonly CredentialRecord[],
  input: { now: Date; reason: string; revocationId: string | null },
): Promise<CredentialDisposition[]> {
  const out = credentials.map((credential): CredentialDisposition => {
    if (credential.status === 'revoked' || credential.status === 'expired') {
      return { credential, disposition: credential.status };
    }
    if (credential.revocability === 'expires-only') return { credential, disposition: 'not_revocable' };
    return { credential, disposition: 'queued' };
  });
  const ids = out.filter((d) => d.disposition === 'queued').map((d) => d.credential.id);
  if (ids.length === 0) return out;
  await tx.query(
    `INSERT INTO revocation_queue AS q (credential_id, state, attempts, next_attempt_at, enqueued_at,
       updated_at, reason, revocation_id)
     SELECT id, 'pending', 0, $2, $2, $2, $3, $4 FROM unnest($1::uuid[]) AS id
     ON CONFLICT (credential_id) DO UPDATE SET next_attempt_at = $2, updated_at = $2
       WHERE q.state <> 'done' AND q.claim_id IS NULL`,
    [ids, input.now, input.reason.slice(0, 1024), input.revocationId],
  );
  return out;
}

interface ClaimRow {
  credential_id: string;
  attempts: number;
  state: 'pending' | 'failed';
  task_id: string;
  provider: string;
  revocation_handle: JsonValue;
  expires_at: Date;
}

/** Claims due rows with `FOR UPDATE SKIP LOCKED` and leases them (see `RevocationStore.claimDue`). */
export async function claimDueRows(
  db: SqlQueryable,
  input: { now: Date; leaseUntil: Date; limit: number; claimId: string; credentialIds?: readonly string[] },
): Promise<ClaimedRevocation[]> {
  const only = input.credentialIds === undefined ? '' : 'AND credential_id = ANY($5::uuid[])';
  const params: unknown[] = [input.now, input.limit, input.claimId, input.leaseUntil];
  if (input.credentialIds !== undefined) params.push([...input.credentialIds]);
  // One statement: the row locks taken by the CTE are held only until it commits, and the lease
  // (next_attempt_at pushed to leaseUntil, claim_id set) is what keeps other workers away afterwards.
  const res = await db.query<ClaimRow>(
    `WITH due AS (
       SELECT credential_id FROM revocation_queue
       WHERE state <> 'done' AND next_attempt_at <= $1 ${only}
       ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE revocation_queue q
     SET claim_id = $3, next_attempt_at = $4, attempts = q.attempts + 1, updated_at = $1
     FROM due, credentials c
     WHERE q.credential_id = due.credential_id AND c.id = q.credential_id
     RETURNING q.credential_id, q.attempts, q.state, c.task_id, c.provider, c.revocation_handle, c.expires_at`,
    params,
  );
  return res.rows.map((r) => ({
    credentialId: r.credential_id,
    taskId: r.task_id,
    provider: r.provider,
    revocationHandle: r.revocation_handle,
    expiresAt: r.expires_at,
    attempt: Number(r.attempts),
    state: r.state,
    claimId: input.claimId,
  }));
}

interface CredentialEventRow {
  id: string;
  task_id: string;
  provider: string;
  workload: string;
}

/** Moves the credential from `from` to `to` and returns it with its workload, or undefined. */
async function moveCredential(
  tx: SqlQueryable,
  id: string,
  from: readonly string[],
  to: 'revoked' | 'revoke_failed',
  now: Date,
): Promise<CredentialEventRow | undefined> {
  const res = await tx.query<CredentialEventRow>(
    `UPDATE credentials c
     SET status = $3, revoked_at = CASE WHEN $3 = 'revoked' THEN $4::timestamptz END
     FROM tasks t
     WHERE c.id = $1 AND t.id = c.task_id AND c.status = ANY($2::text[])
     RETURNING c.id, c.task_id, c.provider, t.workload`,
    [id, [...from], to, now],
  );
  return res.rows[0];
}

interface FinishedRow {
  reason: string;
  revocation_id: string | null;
  attempts: number;
  state: 'pending' | 'failed' | 'done';
}

/**
 * Locks the credential row before its queue row. Every path takes the two in this order (the expiry
 * sweep claims credentials first too), so a completion and a sweep can never deadlock.
 */
async function lockCredential(tx: SqlQueryable, id: string): Promise<void> {
  await tx.query('SELECT 1 FROM credentials WHERE id = $1 FOR NO KEY UPDATE', [id]);
}

/** Completes a claim after a successful backend revocation (see `RevocationStore.completeRevoked`). */
export async function completeRevokedTx(
  tx: SqlQueryable,
  input: { credentialId: string; claimId: string; now: Date },
): Promise<boolean> {
  await lockCredential(tx, input.credentialId);
  const res = await tx.query<FinishedRow>(
    `UPDATE revocation_queue
     SET state = 'done', outcome = 'revoked', claim_id = NULL, last_error = NULL, updated_at = $3
     WHERE credential_id = $1 AND claim_id = $2 AND state <> 'done'
     RETURNING reason, revocation_id, attempts, state`,
    [input.credentialId, input.claimId, input.now],
  );
  const row = res.rows[0];
  if (!row) return false;
  const moved = await moveCredential(
    tx,
    input.credentialId,
    ['active', 'revoke_failed'],
    'revoked',
    input.now,
  );
  if (moved) {
    await insertEvents(tx, [
      {
        type: 'credential.revoked',
        occurredAt: input.now,
        workload: SpiffeId.parse(moved.workload),
        taskId: moved.task_id,
        credentialId: moved.id,
        provider: moved.provider,
        reason: row.reason,
        details: { revocation_id: row.revocation_id, attempts: Number(row.attempts) },
      },
    ]);
  }
  return true;
}

/** Records a failed attempt (see `RevocationStore.recordFailure`). */
export async function recordFailureTx(
  tx: SqlQueryable,
  input: {
    credentialId: string;
    claimId: string;
    now: Date;
    error: string;
    retryAt: Date;
    exhausted: boolean;
  },
): Promise<FailureRecord> {
  await lockCredential(tx, input.credentialId);
  const res = await tx.query<FinishedRow>(
    `UPDATE revocation_queue
     SET state = CASE WHEN $6 THEN 'failed' ELSE state END, last_error = $4, next_attempt_at = $5,
       claim_id = NULL, updated_at = $3
     WHERE credential_id = $1 AND claim_id = $2 AND state <> 'done'
     RETURNING reason, revocation_id, attempts, state`,
    [input.credentialId, input.claimId, input.now, input.error, input.retryAt, input.exhausted],
  );
  const row = res.rows[0];
  if (!row) return 'stale';
  if (row.state !== 'failed') return 'retrying';
  // Only the first exhaustion changes the credential (and writes the event); later slow retries that
  // fail again leave it `revoke_failed` without another event.
  const moved = await moveCredential(tx, input.credentialId, ['active'], 'revoke_failed', input.now);
  if (!moved) return 'retrying';
  await insertEvents(tx, [
    {
      type: 'credential.revoke_failed',
      occurredAt: input.now,
      workload: SpiffeId.parse(moved.workload),
      taskId: moved.task_id,
      credentialId: moved.id,
      provider: moved.provider,
      reason: row.reason,
      details: {
        revocation_id: row.revocation_id,
        attempts: Number(row.attempts),
        last_error: input.error,
        next_attempt_at: input.retryAt.toISOString(),
      },
    },
  ]);
  return 'revoke_failed';
}

/** Makes `failed` rows due now unless claimed; returns their credential ids. */
export async function requeueFailedRows(
  db: SqlQueryable,
  input: { credentialId?: string; now: Date },
): Promise<string[]> {
  const res = await db.query<{ credential_id: string }>(
    `UPDATE revocation_queue SET next_attempt_at = $1, updated_at = $1
     WHERE state = 'failed' AND claim_id IS NULL AND ($2::uuid IS NULL OR credential_id = $2::uuid)
     RETURNING credential_id`,
    [input.now, input.credentialId ?? null],
  );
  return res.rows.map((r) => r.credential_id);
}

/** The queue's gauges: open rows by state (through the partial due index) and revoke_failed credentials. */
export async function queueStatsQuery(db: SqlQueryable): Promise<QueueStats> {
  const res = await db.query<{ pending: number; failed: number; revoke_failed: number }>(
    `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
       count(*) FILTER (WHERE state = 'failed')::int AS failed,
       (SELECT count(*)::int FROM credentials WHERE status = 'revoke_failed') AS revoke_failed
     FROM revocation_queue WHERE state <> 'done'`,
  );
  const row = res.rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    failed: Number(row?.failed ?? 0),
    revokeFailedCredentials: Number(row?.revoke_failed ?? 0),
  };
}
