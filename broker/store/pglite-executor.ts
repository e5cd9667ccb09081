import { PGlite, type Transaction } from '@electric-sql/pglite';
import { BrokerError } from '../errors.js';
import type { SqlExecutor, SqlQueryable, SqlResult } from './sql-executor.js';

/** Where the embedded engine keeps its files. */
export interface PgliteExecutorOptions {
  /** A data directory (created if missing); omit for an in-memory database (tests). */
  readonly dataDir?: string;
}

const closedError = () => new BrokerError('BROKER_STORE_UNAVAILABLE', 'embedded database is closed');

function queryable(db: PGlite | Transaction, closed: () => boolean): SqlQueryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      if (closed()) throw closedError();
      const res = await db.query<R>(sql, [...params]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      if (closed()) throw closedError();
      await db.exec(sql);
    },
  };
}

/**
 * Creates the embedded executor on PGlite, used through PGlite's own API (not a socket shim:
 * DESIGN.md "Dependencies chosen"). PGlite is one session: its `transaction()` holds an exclusive
 * mutex, so transactions and autocommit statements are serialized, which also means row locks and
 * advisory locks never contend here.
 *
 * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the engine cannot start (e.g. the data
 *   directory is unusable or locked by another process).
 */
export async function createPgliteExecutor(options: PgliteExecutorOptions = {}): Promise<SqlExecutor> {
  let db: PGlite;
  try {
    db = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  } catch (err) {
    throw new BrokerError('BROKER_STORE_UNAVAILABLE', 'embedded database cannot start', { cause: err });
  }
  const isClosed = () => db.closed;
  const direct = queryable(db, isClosed);
  let closed: Promise<void> | undefined;
  return {
    engine: 'pglite',
    query: direct.query,
    exec: direct.exec,
    transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      if (db.closed) return Promise.reject(closedError());
      return db.transaction((tx) => fn(queryable(tx, isClosed)));
    },
    // PGlite is one in-process session: a notification is delivered to its own listeners when the
    // notifying transaction commits, and there is no connection to lose.
    async listen(channel, handlers) {
      if (db.closed) throw closedError();
      const unlisten = await db.listen(channel, (payload) => handlers.notify(payload));
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    close(): Promise<void> {
      closed ??= db.close();
      return closed;
    },
  };
}
