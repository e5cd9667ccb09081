import { recordRevocationCheckTx } from './revocation-confirmation-sql.js';
import { BrokerError } from '../errors.js';
import { isUuid } from './task-rows.js';
import { expireDueCredentialsTx } from './credential-expiry-sql.js';
import { listCredentialsQuery } from './credential-list-sql.js';
import {
  insertQuarantineTx,
  isQuarantinedQuery,
  liftQuarantineTx,
  listQuarantinesQuery,
} from './quarantine-sql.js';
import {
  claimDueRows,
  completeRevokedTx,
  queueStatsQuery,
  recordFailureTx,
  requeueFailedRows,
} from './revocation-queue-sql.js';
import type { RevocationStore } from './revocation-store.js';
import { withStoreErrors } from './sql-errors.js';
import type { SqlExecutor, SqlQueryable } from './sql-executor.js';
import { revokeCredentialTx, revokeTasksTx } from './task-revocation-sql.js';

/**
 * Creates the {@link RevocationStore} over a SQL executor (the same statements on a `pg` pool and on
 * PGlite). Mutations are single transactions holding their ledger events; the queue claim is one
 * autocommit statement so no transaction ever spans a backend call.
 */
export function createSqlRevocationStore(db: SqlExecutor): RevocationStore {
  const tx = <T>(fn: (t: SqlQueryable) => Promise<T>): Promise<T> =>
    withStoreErrors(() => db.transaction(fn));
  const read = <T>(fn: () => Promise<T>): Promise<T> => withStoreErrors(fn);
  const store: RevocationStore = {
    claimDue(input) {
      if (input.credentialIds !== undefined && !input.credentialIds.every(isUuid)) {
        return Promise.reject(new BrokerError('BROKER_INPUT_INVALID', 'credential id'));
      }
      return read(() => claimDueRows(db, input));
    },
    completeRevoked: (input) => tx((t) => completeRevokedTx(t, input)),
    recordRevocationCheck: (input) => tx((t) => recordRevocationCheckTx(t, input)),
    recordFailure: (input) => tx((t) => recordFailureTx(t, input)),
    revokeTasks: (selection, request) => tx((t) => revokeTasksTx(t, selection, request)),
    revokeCredential: (credentialId, request) => tx((t) => revokeCredentialTx(t, credentialId, request)),
    quarantine: (input) =>
      tx(async (t) => {
        const { quarantine, created } = await insertQuarantineTx(t, input);
        // The quarantine event is the request: no separate revocation.requested event.
        const { target: _target, ...request } = input;
        const revoked = await revokeTasksTx(t, { workload: input.workload }, request);
        return { quarantine, created, revoked };
      }),
    liftQuarantine: (input) => tx((t) => liftQuarantineTx(t, input)),
    listQuarantines: () => read(() => listQuarantinesQuery(db)),
    isQuarantined: (workload) => read(() => isQuarantinedQuery(db, workload)),
    listCredentials: (filter) => read(() => listCredentialsQuery(db, filter)),
    requeueFailed(input) {
      const { credentialId } = input;
      if (credentialId === undefined) return read(() => requeueFailedRows(db, input));
      if (!isUuid(credentialId)) return Promise.reject(new BrokerError('BROKER_CREDENTIAL_NOT_FOUND'));
      return tx(async (t) => {
        const found = await t.query('SELECT 1 FROM credentials WHERE id = $1', [credentialId]);
        if (found.rows.length === 0) throw new BrokerError('BROKER_CREDENTIAL_NOT_FOUND');
        return requeueFailedRows(t, input);
      });
    },
    expireDueCredentials: (input) => tx((t) => expireDueCredentialsTx(t, input)),
    queueStats: () => read(() => queueStatsQuery(db)),
  };
  return Object.freeze(store);
}
