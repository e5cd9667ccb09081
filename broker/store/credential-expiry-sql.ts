import { insertEvents } from './ledger-sql.js';
import type { SqlQueryable } from './sql-executor.js';

/**
 * Expires up to `limit` live credentials past their expiry in the caller's transaction (see
 * `RevocationStore.expireDueCredentials`). One statement: the due rows come from the partial index
 * `credentials_live_expiry_idx` (only active and revoke_failed rows are in it), are claimed with
 * `FOR UPDATE SKIP LOCKED` so replicas sweep disjoint batches, are marked `expired`, and their queue
 * rows are closed with outcome `expired` (a dead credential has nothing left to revoke).
 *
 * The ledger gets ONE `credential.expired` event per batch listing the ids, not one per credential:
 * expiry adds no fact the `credential.issued` event did not already fix (its `expires_at`), so a
 * per-credential event would double the ledger for nothing; the batch event records when the broker
 * noticed, and which queued revocations it closed.
 */
export async function expireDueCredentialsTx(
  tx: SqlQueryable,
  input: { now: Date; limit: number },
): Promise<string[]> {
  const res = await tx.query<{ ids: string[] | null; closed: string[] | null }>(
    `WITH due AS (
       SELECT id FROM credentials
       WHERE status IN ('active', 'revoke_failed') AND expires_at <= $1
       ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     expired AS (
       UPDATE credentials c SET status = 'expired' FROM due WHERE c.id = due.id RETURNING c.id),
     closed AS (
       UPDATE revocation_queue q
       SET state = 'done', outcome = 'expired', claim_id = NULL, updated_at = $1
       FROM expired WHERE q.credential_id = expired.id AND q.state <> 'done'
       RETURNING q.credential_id)
     SELECT (SELECT array_agg(id::text ORDER BY id) FROM expired) AS ids,
            (SELECT array_agg(credential_id::text ORDER BY credential_id) FROM closed) AS closed`,
    [input.now, input.limit],
  );
  const ids = res.rows[0]?.ids ?? [];
  if (ids.length === 0) return [];
  await insertEvents(tx, [
    {
      type: 'credential.expired',
      occurredAt: input.now,
      details: {
        count: ids.length,
        credential_ids: ids,
        revocations_closed: res.rows[0]?.closed ?? [],
      },
    },
  ]);
  return ids;
}
