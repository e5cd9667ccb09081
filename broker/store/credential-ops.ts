import { BrokerError } from '../errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { CredentialRecord, LedgerEventInput, NewIssuance } from './issuance-store.js';
import { insertEvents } from './ledger-sql.js';
import type { SqlQueryable } from './sql-executor.js';
import { isUuid, toCredential, type CredentialRow } from './task-rows.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Locks the task row (FOR NO KEY UPDATE) and checks it can take a credential. The lock conflicts
 * with `endTask`/`expireDueTasks`, so a task cannot end between this check and the commit: either
 * the issuance commits first and the ending sees it, or the ending commits first and this refuses.
 */
async function lockActiveTask(tx: SqlQueryable, issuance: NewIssuance): Promise<SpiffeId> {
  const res = await tx.query<{ workload: string; status: string; deadline: Date }>(
    'SELECT workload, status, deadline FROM tasks WHERE id = $1 FOR NO KEY UPDATE',
    [issuance.taskId],
  );
  const task = res.rows[0];
  if (!task) throw new BrokerError('BROKER_TASK_NOT_FOUND');
  if (task.status !== 'active' || task.deadline <= issuance.now) {
    throw new BrokerError('BROKER_TASK_ALREADY_ENDED');
  }
  if (issuance.maxCredentialsPerTask !== undefined) {
    const count = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM credentials WHERE task_id = $1',
      [issuance.taskId],
    );
    if ((count.rows[0]?.n ?? 0) >= issuance.maxCredentialsPerTask) {
      throw new BrokerError('BROKER_POLICY_QUOTA_EXCEEDED', 'credentials per task');
    }
  }
  return SpiffeId.parse(task.workload);
}

/** Inserts a credential row and its `credential.issued` event in the caller's transaction. */
export async function recordIssuanceTx(tx: SqlQueryable, issuance: NewIssuance): Promise<CredentialRecord> {
  if (!isUuid(issuance.taskId)) throw new BrokerError('BROKER_TASK_NOT_FOUND');
  if (!isUuid(issuance.id) || !HEX_SHA256.test(issuance.secretHash)) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'credential id or secret hash');
  }
  const workload = await lockActiveTask(tx, issuance);
  const res = await tx.query<CredentialRow>(
    `INSERT INTO credentials (id, task_id, provider, scopes, ttl_seconds, issued_at, expires_at,
       revocation_handle, secret_hash, revocability)
     VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8::text::jsonb, $9, $10) RETURNING *`,
    [
      issuance.id,
      issuance.taskId,
      issuance.provider,
      [...issuance.scopes],
      issuance.ttlSeconds,
      issuance.now,
      issuance.expiresAt,
      JSON.stringify(issuance.revocationHandle),
      issuance.secretHash,
      issuance.revocability,
    ],
  );
  await insertEvents(tx, [
    {
      type: 'credential.issued',
      occurredAt: issuance.now,
      workload,
      taskId: issuance.taskId,
      credentialId: issuance.id,
      provider: issuance.provider,
      decision: 'allow',
      reason: issuance.reason ?? null,
      rule: issuance.rule ?? null,
      details: {
        scopes: [...issuance.scopes],
        ttl_seconds: issuance.ttlSeconds,
        expires_at: issuance.expiresAt.toISOString(),
        revocability: issuance.revocability,
      },
    },
  ]);
  return toCredential(res.rows[0] as CredentialRow);
}

/** Moves credentials to `revoked`/`revoke_failed` with one event each, in the caller's transaction. */
export async function markCredentialsTx(
  tx: SqlQueryable,
  input: { ids: readonly string[]; outcome: 'revoked' | 'revoke_failed'; reason: string; now: Date },
): Promise<string[]> {
  if (input.ids.length === 0) return [];
  if (!input.ids.every(isUuid)) throw new BrokerError('BROKER_INPUT_INVALID', 'credential id');
  const res = await tx.query<{ id: string; task_id: string; provider: string; workload: string }>(
    `UPDATE credentials c
     SET status = $2, revoked_at = CASE WHEN $2 = 'revoked' THEN $3::timestamptz END
     FROM tasks t
     WHERE c.id = ANY($1::uuid[]) AND t.id = c.task_id
       AND c.status IN ('active', 'revoke_failed') AND c.status <> $2
     RETURNING c.id, c.task_id, c.provider, t.workload`,
    [[...input.ids], input.outcome, input.now],
  );
  const events: LedgerEventInput[] = res.rows.map((r) => ({
    type: input.outcome === 'revoked' ? 'credential.revoked' : 'credential.revoke_failed',
    occurredAt: input.now,
    workload: SpiffeId.parse(r.workload),
    taskId: r.task_id,
    credentialId: r.id,
    provider: r.provider,
    reason: input.reason,
  }));
  await insertEvents(tx, events);
  return res.rows.map((r) => r.id);
}
