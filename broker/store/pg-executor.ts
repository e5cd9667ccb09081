import pg from 'pg';
import { BrokerError } from '../errors.js';
import { listenPg } from './pg-listener.js';
import { isConnectionError } from './sql-errors.js';
import type { QueryOptions, SqlExecutor, SqlQueryable, SqlResult } from './sql-executor.js';

/** How to reach a PostgreSQL server. */
export interface PgExecutorOptions {
  /** A `postgres://` connection URL (`DATABASE_URL`). */
  readonly url: string;
  /** Schema put first on every connection's `search_path` (tests use one fresh schema each). */
  readonly schema?: string;
  /** Pool size; default 10. */
  readonly max?: number;
  /** How long to wait for a connection before failing with `BROKER_STORE_UNAVAILABLE`; default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Told about errors of idle pooled connections (a server restart); they are otherwise dropped. */
  readonly onIdleError?: (err: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Translates connection failures into `BROKER_STORE_UNAVAILABLE` where they enter; others pass. */
function translateConnection(err: unknown): unknown {
  return isConnectionError(err)
    ? new BrokerError('BROKER_STORE_UNAVAILABLE', undefined, { cause: err })
    : err;
}

function queryable(client: pg.Pool | pg.PoolClient): SqlQueryable {
  return {
    async query<R>(
      sql: string,
      params: readonly unknown[] = [],
      options: QueryOptions = {},
    ): Promise<SqlResult<R>> {
      try {
        const values = [...params];
        // A named statement is parsed and planned once per pooled connection, then only bound.
        const res = await (options.name === undefined
          ? client.query(sql, values)
          : client.query({ name: options.name, text: sql, values }));
        return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
      } catch (err) {
        throw translateConnection(err);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        // Without parameters node-postgres uses the simple protocol, which allows several statements.
        await client.query(sql);
      } catch (err) {
        throw translateConnection(err);
      }
    },
  };
}

/**
 * Creates the production executor: a `pg.Pool` on `options.url`. Transactions hold one pooled
 * connection from BEGIN to COMMIT/ROLLBACK; a connection that failed mid-transaction is destroyed
 * rather than returned to the pool.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` for a schema name that is not a plain identifier.
 */
export function createPgExecutor(options: PgExecutorOptions): SqlExecutor {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'schema must be a lower-case sql identifier');
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's socket error is emitted on the pool; unhandled it would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  let closed: Promise<void> | undefined;
  const direct = queryable(pool);
  return {
    engine: 'postgres',
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translateConnection(err);
      }
      const tx = queryable(client);
      let broken: Error | undefined;
      // While a client is checked out the pool removes its own error listener, so a server that
      // dies mid-transaction would raise an unhandled 'error' event and crash the process instead
      // of failing this call with BROKER_STORE_UNAVAILABLE (found by the ledger-outage suite).
      const onError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await tx.exec('BEGIN');
        const result = await fn(tx);
        await tx.exec('COMMIT');
        return result;
      } catch (err) {
        if (isConnectionError(err)) broken = err instanceof Error ? err : new Error('connection lost');
        else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    // NOTIFY listeners get a dedicated connection each, outside the pool (see pg-listener.ts).
    listen: (channel, handlers) =>
      listenPg({ url: options.url, label: options.schema ?? 'public' }, channel, handlers),
    close(): Promise<void> {
      closed ??= pool.end();
      return closed;
    },
  };
}
