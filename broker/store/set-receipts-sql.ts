import { createHash } from 'node:crypto';
import type { ReplayStore, ReplayVerdict } from '../auth/replay-store.js';
import type { SqlExecutor } from './sql-executor.js';
import { withStoreErrors } from './sql-errors.js';

/** How often one replica deletes expired receipts (the table only holds SETs still inside their window). */
const PRUNE_EVERY_MS = 60_000;

/**
 * A {@link ReplayStore} for Security Event Token `jti`s in the `set_receipts` table, shared by every
 * broker replica (a SET replayed to another replica is refused too). `remember` inserts the key's
 * SHA-256, or takes over a row whose time has passed, in one statement: `fresh` when it did, `replayed`
 * when a live row was there. It never answers `full`. Expired rows are deleted at most once a minute
 * per replica, off the answer's path.
 *
 * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE`, `BROKER_STORE_QUERY_FAILED` (the SET is then
 *   refused: a receipt that cannot be recorded cannot be protected against replay).
 */
export function createSqlSetReceiptStore(db: SqlExecutor): ReplayStore {
  let lastPruneMs = -Infinity;
  const prune = (now: Date): void => {
    if (now.getTime() - lastPruneMs < PRUNE_EVERY_MS) return;
    lastPruneMs = now.getTime();
    void db.query('DELETE FROM set_receipts WHERE expires_at <= $1', [now]).catch(() => undefined);
  };
  return Object.freeze({
    async remember(key: string, expiresAt: Date, now: Date): Promise<ReplayVerdict> {
      const hash = createHash('sha256').update(key, 'utf8').digest('hex');
      const res = await withStoreErrors(() =>
        db.query(
          `INSERT INTO set_receipts (key, received_at, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET received_at = EXCLUDED.received_at, expires_at = EXCLUDED.expires_at
           WHERE set_receipts.expires_at <= $2
           RETURNING key`,
          [hash, now, expiresAt],
        ),
      );
      prune(now);
      return res.rows.length === 1 ? 'fresh' : 'replayed';
    },
  });
}
