import type { SqlExecutor, SqlQueryable } from '../../../../broker/store/sql-executor.js';

/**
 * A {@link SqlExecutor} that passes everything through to a real one, except that the next statement
 * matching a pattern fails (failure injection, not a mock: the transactions are real).
 */
export class FaultyExecutor implements SqlExecutor {
  readonly engine: SqlExecutor['engine'];
  #fault: { pattern: RegExp; error: Error } | undefined;

  constructor(private readonly inner: SqlExecutor) {
    this.engine = inner.engine;
  }

  /** The next statement whose SQL matches `pattern` throws `error` instead of running. */
  failNextWith(pattern: RegExp, error: Error): void {
    this.#fault = { pattern, error };
  }

  #check(sql: string): void {
    if (this.#fault && this.#fault.pattern.test(sql)) {
      const { error } = this.#fault;
      this.#fault = undefined;
      throw error;
    }
  }

  #wrap(q: SqlQueryable): SqlQueryable {
    return {
      query: async (sql, params) => {
        this.#check(sql);
        return q.query(sql, params);
      },
      exec: async (sql) => {
        this.#check(sql);
        return q.exec(sql);
      },
    };
  }

  query: SqlExecutor['query'] = (sql, params) => this.#wrap(this.inner).query(sql, params);
  exec: SqlExecutor['exec'] = (sql) => this.#wrap(this.inner).exec(sql);
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(this.#wrap(tx)));
  }
  listen: SqlExecutor['listen'] = (channel, handlers) => this.inner.listen(channel, handlers);
  close(): Promise<void> {
    return this.inner.close();
  }
}
