/**
 * The one seam between the store and a Postgres engine. Both backends — a `pg` pool for
 * `DATABASE_URL` and embedded PGlite — implement it, so every statement in `broker/store/` runs
 * unchanged on either (DESIGN.md "Real components").
 */

/** The rows of one statement. */
export interface SqlResult<R> {
  /** The returned rows, already parsed (timestamptz → `Date`, jsonb → value, arrays → arrays). */
  readonly rows: R[];
  /** Rows affected (for `UPDATE`/`INSERT`/`DELETE`) or returned. */
  readonly rowCount: number;
}

/** How to run one statement. */
export interface QueryOptions {
  /**
   * Prepare the statement once per connection under this name and reuse its plan (the hot paths:
   * issuance). The name must be unique to the SQL text. PGlite, a single session, ignores it.
   */
  readonly name?: string;
}

/** Something that runs SQL: the executor itself (autocommit) or an open transaction. */
export interface SqlQueryable {
  /**
   * Runs ONE statement with `$n` parameters (extended protocol on both engines).
   *
   * Note that `bigint` columns come back as `string` from `pg` and as `number` from PGlite: callers
   * normalize with `Number()` or cast in SQL.
   *
   * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the database cannot be reached; the
   *   engine's own error (with a SQLSTATE `code`) for a failed statement.
   */
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<SqlResult<R>>;
  /**
   * Runs a script of several statements without parameters (migrations).
   *
   * @throws as {@link SqlQueryable.query}.
   */
  exec(sql: string): Promise<void>;
}

/** A database: autocommit statements plus transactions. */
export interface SqlExecutor extends SqlQueryable {
  /** Which engine is underneath; only tests and diagnostics should care. */
  readonly engine: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction (READ COMMITTED): committed when `fn` resolves, rolled back when it
   * throws (the error is rethrown). The `tx` handle must not be used after `fn` settles.
   *
   * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the database cannot be reached or the
   *   connection drops before COMMIT is acknowledged; whatever `fn` throws otherwise.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Listens on a NOTIFY `channel` (on pg: one dedicated connection outside the pool, re-established
   * with backoff when it drops). See {@link SqlListenHandlers}. Resolves once the first LISTEN is
   * in effect, with a function that stops listening.
   *
   * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the first LISTEN cannot be set up.
   */
  listen(channel: string, handlers: SqlListenHandlers): Promise<() => Promise<void>>;
  /** Releases connections (pg) or shuts the embedded engine down (PGlite). Idempotent. */
  close(): Promise<void>;
}

/** What a {@link SqlExecutor.listen} caller is told. */
export interface SqlListenHandlers {
  /** A notification, delivered only after the notifying transaction committed. */
  notify(payload: string): void;
  /**
   * LISTEN is in effect again after a lost connection. Notifications sent while it was down are
   * lost, so the caller must re-read what it follows (catch-up).
   */
  reconnected?(): void;
  /** The listening connection dropped; a reconnect is under way. */
  lost?(err: Error): void;
}
