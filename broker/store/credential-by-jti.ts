import type { TaskStatus } from '../domain/task.js';
import type { CredentialRecord } from './issuance-store.js';
import { withStoreErrors } from './sql-errors.js';
import type { SqlQueryable } from './sql-executor.js';
import { toCredential, type CredentialRow } from './task-rows.js';

/** A credential found by its task token id, with the status of its task. */
export interface CredentialByJti {
  readonly credential: CredentialRecord;
  readonly taskStatus: TaskStatus;
}

/** The longest jti looked up; the broker's are UUIDs, anything much longer is not one of ours. */
const MAX_JTI = 256;

/**
 * Finds the credential whose revocation handle carries `jti` (the `jwt` provider's handle
 * `{jti, kid, expiresAt}`), through the `credentials_jti_idx` expression index. Undefined when no
 * credential has it.
 *
 * @throws {BrokerError} `BROKER_STORE_*`.
 */
export async function findCredentialByJti(
  db: SqlQueryable,
  jti: string,
): Promise<CredentialByJti | undefined> {
  if (jti === '' || jti.length > MAX_JTI) return undefined;
  return withStoreErrors(async () => {
    const res = await db.query<CredentialRow & { task_status: TaskStatus }>(
      `SELECT c.*, t.status AS task_status FROM credentials c JOIN tasks t ON t.id = c.task_id
       WHERE c.revocation_handle ? 'jti' AND c.revocation_handle ->> 'jti' = $1
       ORDER BY c.issued_at DESC LIMIT 1`,
      [jti],
    );
    const row = res.rows[0];
    return row ? { credential: toCredential(row), taskStatus: row.task_status } : undefined;
  });
}

/**
 * Whether the broker's record says the task token `jti` is revoked: its credential is `revoked` or
 * `expired`, or its task has ended (ending a task ends all its tokens at once). An unknown jti is not
 * revoked by this record (the adapter then falls back to the token's expiry).
 *
 * @throws {BrokerError} `BROKER_STORE_*`.
 */
export async function isJtiRevoked(db: SqlQueryable, jti: string): Promise<boolean> {
  const found = await findCredentialByJti(db, jti);
  if (found === undefined) return false;
  const { status } = found.credential;
  return status === 'revoked' || status === 'expired' || found.taskStatus !== 'active';
}
