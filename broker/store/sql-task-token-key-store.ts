import {
  parseKeysFile,
  serializeTaskTokenKeys,
  type TaskTokenKeyStore,
  type VersionedTaskTokenKeys,
} from '../../adapters/jwt/key-store.js';
import { openWithKek, sealWithKek } from '../../adapters/jwt/sealed-keys.js';
import type { Clock } from '../../spiffe/clock.js';
import { BrokerError } from '../errors.js';
import { withStoreErrors } from './sql-errors.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * The task-token key store in the broker's database, shared by every replica on it (table
 * `task_token_keys`, one row). The key set is sealed with AES-256-GCM under `kek` before it is
 * written, so the database never holds a private key in the clear; each write is a compare-and-set
 * on the row's revision (see `TaskTokenKeyring`'s rotation).
 *
 * Errors: `BROKER_STORE_*` when the database fails, `BROKER_ADAPTER_KEY_STORE` when the row does not
 * open under `kek` (another deployment's key, or tampering).
 */
export function createSqlTaskTokenKeyStore(db: SqlExecutor, kek: Buffer, clock: Clock): TaskTokenKeyStore {
  const loadVersioned = (): Promise<VersionedTaskTokenKeys | undefined> =>
    withStoreErrors(async () => {
      const res = await db.query<{ revision: string | number; sealed: string }>(
        'SELECT revision, sealed FROM task_token_keys WHERE id = 1',
      );
      const row = res.rows[0];
      if (row === undefined) return undefined;
      return { keys: parseKeysFile(openWithKek(kek, row.sealed)), revision: Number(row.revision) };
    });
  const saveIf: NonNullable<TaskTokenKeyStore['shared']>['saveIf'] = (keys, expected) =>
    withStoreErrors(async () => {
      const sealed = sealWithKek(kek, serializeTaskTokenKeys(keys));
      const now = clock.now();
      const res =
        expected === 0
          ? await db.query(
              `INSERT INTO task_token_keys (id, revision, sealed, updated_at) VALUES (1, 1, $1, $2)
               ON CONFLICT (id) DO NOTHING`,
              [sealed, now],
            )
          : await db.query(
              `UPDATE task_token_keys SET revision = revision + 1, sealed = $1, updated_at = $2
               WHERE id = 1 AND revision = $3`,
              [sealed, now, expected],
            );
      return res.rowCount === 1;
    });
  return {
    location: 'database table task_token_keys',
    load: async () => (await loadVersioned())?.keys,
    async save(keys) {
      // For callers that do not use the shared protocol: a lost race is an error, never a silent drop.
      const current = await loadVersioned();
      if (!(await saveIf(keys, current?.revision ?? 0))) {
        throw new BrokerError(
          'BROKER_ADAPTER_KEY_STORE',
          'signing keys changed concurrently; reload and retry',
        );
      }
    },
    shared: { loadVersioned, saveIf },
  };
}
