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
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
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
  /** Releases connections (pg) or shuts the embedded engine down (PGlite). Idempotent. */
  close(): Promise<void>;
}
