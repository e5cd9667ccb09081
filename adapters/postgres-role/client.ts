/**
 * The `postgres-role` adapter's only contact with `pg`: a pool per target database with connect,
 * statement and read timeouts, and the translation of every driver or server error into a
 * `BROKER_ADAPTER_*` code where it enters. Translated errors carry the step and the SQLSTATE only —
 * never the server's message, which can quote the statement — and no `cause`.
 */
import pg from 'pg';
import { BrokerError, type BrokerErrorCode } from '../../broker/errors.js';

/** One connection inside a transaction. */
export interface TargetConnection {
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A pool on one database of the target cluster, as the provider's admin role. */
export interface TargetDatabase {
  /** Runs one statement on any pooled connection. @throws {BrokerError} `BROKER_ADAPTER_*`. */
  query<R>(step: string, sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs `fn` between BEGIN and COMMIT on one connection; any error rolls back. */
  transaction<T>(step: string, fn: (conn: TargetConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How to open a {@link TargetDatabase}. */
export interface TargetDatabaseOptions {
  /** The admin URL; its database is replaced by `database`. */
  readonly url: string;
  readonly database: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  /** Sent as the session's `statement_timeout`; the client gives up a little later on its own. */
  readonly statementTimeoutMs: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// node-postgres reports these without a code.
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'connection terminated',
  'query read timeout',
  'connection error',
  'cannot use a pool after calling end',
  'the server does not support ssl',
];

/** SQLSTATE → [code, what it means here]; classes are matched by their first two characters. */
const SQLSTATES: Record<string, readonly [BrokerErrorCode, string]> = {
  '08': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'connection failure'],
  '53': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'server out of resources'],
  '57014': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'statement timeout'],
  '57P01': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'server shutting down'],
  '57P02': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'server crashed'],
  '57P03': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'server not accepting connections'],
  '55P03': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'lock not available'],
  '40001': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'serialization failure'],
  '40P01': ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'deadlock'],
  '28': ['BROKER_ADAPTER_BACKEND_DENIED', 'admin login refused'],
  '42501': ['BROKER_ADAPTER_BACKEND_DENIED', 'admin role lacks a privilege'],
  '42710': ['BROKER_ADAPTER_BACKEND_CONFLICT', 'role already exists'],
  '42704': ['BROKER_ADAPTER_BACKEND_REJECTED', 'a role does not exist'],
  '3D000': ['BROKER_ADAPTER_BACKEND_REJECTED', 'database does not exist'],
  '2BP01': ['BROKER_ADAPTER_BACKEND_REJECTED', 'role still owns objects in a database not cleaned up'],
};

/** A translated error that PostgreSQL reported with a SQLSTATE, which callers may branch on. */
export class TargetStatementError extends BrokerError {
  readonly sqlstate: string;

  constructor(code: BrokerErrorCode, detail: string, sqlstate: string) {
    super(code, detail);
    this.sqlstate = sqlstate;
  }
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for errors PostgreSQL reported about a statement (the connection is still usable). */
function isServerError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P)/.test(code);
}

/**
 * Translates what `pg` threw during `step` into a `BROKER_ADAPTER_*` error: unreachable, timed out
 * or overloaded → `BACKEND_UNAVAILABLE`; login or privilege refused → `BACKEND_DENIED`; role name
 * taken → `BACKEND_CONFLICT`; any other SQLSTATE → `BACKEND_REJECTED`.
 */
export function translateTargetError(step: string, err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof AggregateError && err.errors.length > 0)
    return translateTargetError(step, err.errors[0]);
  const code = codeOf(err);
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', `${step}: ${code.toLowerCase()}`);
  }
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    const [broker, meaning] = SQLSTATES[code] ??
      SQLSTATES[code.slice(0, 2)] ?? ['BROKER_ADAPTER_BACKEND_REJECTED', 'statement failed'];
    return new TargetStatementError(broker, `${step}: ${meaning} (sqlstate ${code})`, code);
  }
  const message = err instanceof Error ? err.message.toLowerCase() : '';
  if (message.includes('sasl') || message.includes('password')) {
    return new BrokerError('BROKER_ADAPTER_BACKEND_DENIED', `${step}: admin login refused`);
  }
  const known = UNAVAILABLE_MESSAGES.find((m) => message.includes(m));
  return new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', `${step}: ${known ?? 'client error'}`);
}

/** The admin URL pointed at `database` (node-postgres lets a URL's parts win over separate options). */
function urlFor(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Opens a pool on one target database. Nothing can hang: connecting is bounded by
 * `connectTimeoutMs`, each statement by the server's `statement_timeout`, and a server that stops
 * answering altogether by the client's own read timeout shortly after.
 */
export function openTargetDatabase(options: TargetDatabaseOptions): TargetDatabase {
  const pool = new pg.Pool({
    connectionString: urlFor(options.url, options.database),
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + 1000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    application_name: 'taskpass-postgres-role',
  });
  // An idle client's socket error is emitted on the pool; unhandled it would crash the process. The
  // pool has already discarded that client, and the next checkout opens a fresh one.
  pool.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  return {
    async query<R>(step: string, sql: string, params: readonly unknown[] = []): Promise<R[]> {
      try {
        return (await pool.query(sql, [...params])).rows as R[];
      } catch (err) {
        throw translateTargetError(step, err);
      }
    },
    async transaction<T>(step: string, fn: (conn: TargetConnection) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translateTargetError(step, err);
      }
      // While checked out, a client's socket errors are emitted on it, not the pool: keep them.
      let broken: Error | undefined;
      const onError = (err: Error): void => void (broken = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(sql: string, params: readonly unknown[] = []) =>
            (await client.query(sql, [...params])).rows as R[],
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // A statement error leaves a usable connection to roll back; a broken or timed-out one is
        // destroyed instead, which makes the server roll back.
        if (isServerError(err)) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        else broken ??= err instanceof Error ? err : new Error('connection lost');
        throw translateTargetError(step, err);
      } finally {
        client.off('error', onError);
        client.release(broken ?? false);
      }
    },
    close(): Promise<void> {
      closed ??= pool.end();
      return closed;
    },
  };
}
