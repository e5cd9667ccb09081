import { BrokerError } from '../errors.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { markCredentialsTx, recordIssuanceStatement } from './credential-ops.js';
import type { IssuanceStore, LedgerEventInput } from './issuance-store.js';
import { insertEvents, selectEvents } from './ledger-sql.js';
import { withStoreErrors } from './sql-errors.js';
import type { SqlExecutor, SqlQueryable } from './sql-executor.js';
import { ACTIVE_TASKS_SQL, createTaskTx, endTaskTx, expireDueTasksTx, listTasksQuery } from './task-ops.js';
import { isUuid, toCredential, toTask, type CredentialRow, type TaskRow } from './task-rows.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

type Readers =
  | 'getTask'
  | 'listTasks'
  | 'findCredentialBySecretHash'
  | 'countActiveTasks'
  | 'countCredentials'
  | 'queryEvents';

/** The read-only methods: single autocommit statements. */
function readers(db: SqlExecutor): Pick<IssuanceStore, Readers> {
  const read = <T>(fn: () => Promise<T>) => withStoreErrors(fn);
  const count = async (sql: string, params: unknown[]) =>
    (await db.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;
  return {
    getTask(id) {
      if (!isUuid(id)) return Promise.resolve(undefined);
      return read(async () => {
        const res = await db.query<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id]);
        return res.rows[0] ? toTask(res.rows[0]) : undefined;
      });
    },
    listTasks: (filter) => read(() => listTasksQuery(db, filter)),
    findCredentialBySecretHash(secretHash) {
      if (!HEX_SHA256.test(secretHash)) return Promise.resolve(undefined);
      return read(async () => {
        const res = await db.query<CredentialRow>('SELECT * FROM credentials WHERE secret_hash = $1', [
          secretHash,
        ]);
        return res.rows[0] ? toCredential(res.rows[0]) : undefined;
      });
    },
    countActiveTasks: (workload: SpiffeId, now: Date) =>
      read(() => count(ACTIVE_TASKS_SQL, [workload.toString(), now])),
    countCredentials(taskId) {
      if (!isUuid(taskId)) return Promise.resolve(0);
      return read(() => count('SELECT count(*)::int AS n FROM credentials WHERE task_id = $1', [taskId]));
    },
    queryEvents: (query) => read(() => selectEvents(db, query)),
  };
}

/** The mutating methods: each one transaction holding a state change and its ledger event(s). */
function writers(db: SqlExecutor): Omit<IssuanceStore, Readers> {
  const tx = <T>(fn: (t: SqlQueryable) => Promise<T>): Promise<T> =>
    withStoreErrors(() => db.transaction(fn));
  return {
    createTask(task) {
      if (!isUuid(task.id) || (task.parent && !isUuid(task.parent))) {
        return Promise.reject(new BrokerError('BROKER_INPUT_INVALID', 'task id'));
      }
      return tx((t) => createTaskTx(t, task));
    },
    endTask(input) {
      if (!isUuid(input.id)) return Promise.reject(new BrokerError('BROKER_TASK_NOT_FOUND'));
      return tx((t) => endTaskTx(t, input));
    },
    expireDueTasks: ({ now, limit }) => tx((t) => expireDueTasksTx(t, now, limit)),
    // One autocommit statement, not a transaction: see recordIssuanceStatement.
    recordIssuance: (issuance) => withStoreErrors(() => recordIssuanceStatement(db, issuance)),
    async recordDenial(event) {
      const [stored] = await tx((t) => insertEvents(t, [{ ...event, decision: 'deny' }]));
      return stored!;
    },
    markCredentials: (input) => tx((t) => markCredentialsTx(t, input)),
    appendEvents: (events: readonly LedgerEventInput[]) => tx((t) => insertEvents(t, events)),
    recordPolicyVersion: ({ sha256, source, now }) =>
      tx(async (t) => {
        const res = await t.query<{ version: string | number }>(
          'INSERT INTO policy_versions (sha256, loaded_at, source) VALUES ($1, $2, $3) RETURNING version',
          [sha256, now, source],
        );
        const version = Number(res.rows[0]?.version);
        await insertEvents(t, [
          { type: 'policy.reloaded', occurredAt: now, details: { version, sha256, source } },
        ]);
        return version;
      }),
  };
}

/**
 * Creates the {@link IssuanceStore} over a SQL executor: the same statements on a `pg` pool and on
 * PGlite. Each mutating method is one transaction holding the state change and its ledger event;
 * foreign errors are translated on the way out (`BROKER_STORE_*`, `BROKER_LEDGER_*`).
 *
 * Ledger events are committed unsealed; pair the store with a ledger sealer
 * (`broker/ledger/hash-chain.ts`) to chain them.
 */
export function createSqlIssuanceStore(db: SqlExecutor): IssuanceStore {
  return { ...readers(db), ...writers(db) };
}
