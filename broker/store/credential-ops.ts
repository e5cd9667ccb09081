import { BrokerError } from '../errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { CredentialRecord, LedgerEventInput, NewIssuance } from './issuance-store.js';
import { insertEvents } from './ledger-sql.js';
import type { SqlQueryable } from './sql-executor.js';
import { isUuid, toCredential, type CredentialRow } from './task-rows.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Records one issuance in ONE autocommit statement (ISSUE 3, Speed): it bumps the task's
 * `credentials_issued` counter only if the task is active, within its deadline and under the
 * credentials-per-task quota; inserts the credential; and appends its `credential.issued` event.
 * Data-modifying CTEs run to completion exactly once and the statement is atomic, so the three
 * writes commit together or not at all (invariant 1) with one round trip and one WAL flush.
 *
 * The UPDATE takes the task row's lock and, under READ COMMITTED, re-checks its WHERE clause on the
 * newest row version, so it serializes against `endTask`/`expireDueTasks` exactly as the former
 * `SELECT … FOR NO KEY UPDATE` did: either the issuance commits first and the ending sees it, or the
 * ending commits first and this inserts nothing.
 */
const ISSUE_SQL = `
WITH claimed AS (
  UPDATE tasks SET credentials_issued = credentials_issued + 1
  WHERE id = $2::uuid AND status = 'active' AND deadline > $6::timestamptz
    AND ($11::int IS NULL OR credentials_issued < $11::int)
  RETURNING id, workload
), cred AS (
  INSERT INTO credentials (id, task_id, provider, scopes, ttl_seconds, issued_at, expires_at,
    revocation_handle, secret_hash, revocability)
  SELECT $1::uuid, claimed.id, $3::text, $4::text[], $5::int, $6::timestamptz, $7::timestamptz,
    $8::text::jsonb, $9::text, $10::text
  FROM claimed
  RETURNING *
), event AS (
  INSERT INTO ledger_events (occurred_at, type, workload, task_id, credential_id, provider, decision,
    reason, rule, details)
  SELECT $6::timestamptz, 'credential.issued', claimed.workload, claimed.id, $1::uuid, $3::text, 'allow',
    $12::text, $13::text, $14::text::jsonb
  FROM claimed
  RETURNING seq
)
SELECT cred.* FROM cred, event`;

/** Why {@link ISSUE_SQL} inserted nothing: read after the fact (the refusal path only). */
async function refusal(db: SqlQueryable, issuance: NewIssuance): Promise<BrokerError> {
  const res = await db.query<{ status: string; deadline: Date; credentials_issued: number }>(
    'SELECT status, deadline, credentials_issued FROM tasks WHERE id = $1',
    [issuance.taskId],
  );
  const task = res.rows[0];
  if (!task) return new BrokerError('BROKER_TASK_NOT_FOUND');
  if (task.status !== 'active' || task.deadline <= issuance.now) {
    return new BrokerError('BROKER_TASK_ALREADY_ENDED');
  }
  return new BrokerError('BROKER_POLICY_QUOTA_EXCEEDED', 'credentials per task');
}

/** Inserts a credential row and its `credential.issued` event atomically (see {@link ISSUE_SQL}). */
export async function recordIssuanceStatement(
  db: SqlQueryable,
  issuance: NewIssuance,
): Promise<CredentialRecord> {
  if (!isUuid(issuance.taskId)) throw new BrokerError('BROKER_TASK_NOT_FOUND');
  if (!isUuid(issuance.id) || !HEX_SHA256.test(issuance.secretHash)) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'credential id or secret hash');
  }
  const details = {
    scopes: [...issuance.scopes],
    ttl_seconds: issuance.ttlSeconds,
    expires_at: issuance.expiresAt.toISOString(),
    revocability: issuance.revocability,
    ...(issuance.ttlRoundedUp && {
      ttl_rounded_up: {
        requested_seconds: issuance.ttlRoundedUp.requestedSeconds,
        minimum_seconds: issuance.ttlRoundedUp.minimumSeconds,
      },
    }),
  };
  const res = await db.query<CredentialRow>(
    ISSUE_SQL,
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
      issuance.maxCredentialsPerTask ?? null,
      issuance.reason ?? null,
      issuance.rule ?? null,
      JSON.stringify(details),
    ],
    { name: 'taskpass_record_issuance' },
  );
  const row = res.rows[0];
  if (!row) throw await refusal(db, issuance);
  return toCredential(row);
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
