import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { insertEvents } from './ledger-sql.js';
import type { SqlQueryable } from './sql-executor.js';

/** What `verifyRevoked` answered for one revoked credential. */
export interface RevocationCheckRecord {
  readonly credentialId: string;
  readonly confirmed: boolean;
  /** What was checked and what the backend said (never a secret). */
  readonly detail: string;
  readonly now: Date;
}

/**
 * Records a backend's answer about a revoked credential: a `credential.revocation_verified` event
 * (`details.confirmed`, `details.detail`) and, when confirmed, `revocation_confirmed_at` (set once).
 * Returns false, recording nothing, for a credential that is not `revoked`.
 */
export async function recordRevocationCheckTx(
  tx: SqlQueryable,
  input: RevocationCheckRecord,
): Promise<boolean> {
  const res = await tx.query<{
    id: string;
    task_id: string;
    provider: string;
    workload: string;
    revoked_at: Date;
  }>(
    `UPDATE credentials c
     SET revocation_confirmed_at = CASE WHEN $2 THEN coalesce(c.revocation_confirmed_at, $3::timestamptz)
                                        ELSE c.revocation_confirmed_at END
     FROM tasks t
     WHERE c.id = $1 AND t.id = c.task_id AND c.status = 'revoked'
     RETURNING c.id, c.task_id, c.provider, t.workload, c.revoked_at`,
    [input.credentialId, input.confirmed, input.now],
  );
  const row = res.rows[0];
  if (!row) return false;
  await insertEvents(tx, [
    {
      type: 'credential.revocation_verified',
      occurredAt: input.now,
      workload: SpiffeId.parse(row.workload),
      taskId: row.task_id,
      credentialId: row.id,
      provider: row.provider,
      reason: input.confirmed ? 'backend confirms the credential no longer works' : 'not confirmed',
      details: {
        confirmed: input.confirmed,
        detail: input.detail,
        revoked_at: row.revoked_at.toISOString(),
        confirm_ms: input.now.getTime() - row.revoked_at.getTime(),
      },
    },
  ]);
  return true;
}
