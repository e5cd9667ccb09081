/**
 * The four things the `postgres-role` adapter does to a target cluster, each as one function over
 * {@link TargetDatabase} pools: create a role, extend it, revoke it, and look at whether it is gone.
 */
import { BrokerError } from '../../broker/errors.js';
import { TargetStatementError, type TargetDatabase } from './client.js';
import {
  commentOnRoleSql,
  createRoleSql,
  disableLoginSql,
  dropOwnedSql,
  dropRoleSql,
  grantRoleToAdminSql,
  grantTemplatesSql,
  reassignOwnedSql,
  REVOCATION_STATE_SQL,
  ROLE_OID_SQL,
  ROLE_STATE_SQL,
  SELF_GRANT_INHERIT_SQL,
  SERVER_VERSION_SQL,
  TERMINATE_SESSIONS_SQL,
  validUntilSql,
} from './sql.js';

/** PostgreSQL 16 changed what CREATEROLE gives the creator of a role (see `SELF_GRANT_INHERIT_SQL`). */
const PG16 = 160000;

/** True for a statement error saying the role does not exist (SQLSTATE 42704 undefined_object). */
function isRoleMissing(err: unknown): boolean {
  return err instanceof TargetStatementError && err.sqlstate === '42704';
}

/** What {@link createRole} creates. */
export interface NewRole {
  readonly role: string;
  /** SCRAM-SHA-256 verifier of the password. */
  readonly verifier: string;
  readonly validUntil: Date;
  readonly connectionLimit: number;
  readonly templates: readonly string[];
  readonly comment: string;
}

/**
 * Creates the login role, keeps the admin able to clean it up later, grants the templates and
 * comments it — in ONE transaction, so a failed grant leaves no role behind. Resolves to its oid.
 *
 * @throws {TargetStatementError} `BROKER_ADAPTER_BACKEND_CONFLICT` (sqlstate 42710) when the name is
 * taken; other `BROKER_ADAPTER_BACKEND_*` codes as {@link translateTargetError}.
 */
export async function createRole(db: TargetDatabase, r: NewRole): Promise<number> {
  return db.transaction('issue: create role', async (c) => {
    const [server] = await c.query<{ version: number }>(SERVER_VERSION_SQL);
    const modern = (server?.version ?? 0) >= PG16;
    if (modern) await c.query(SELF_GRANT_INHERIT_SQL);
    await c.query(createRoleSql(r.role, r.verifier, r.validUntil, r.connectionLimit));
    // REASSIGN OWNED, DROP OWNED and pg_terminate_backend need the admin to hold the role's privileges.
    if (!modern) await c.query(grantRoleToAdminSql(r.role));
    await c.query(grantTemplatesSql(r.templates, r.role));
    await c.query(commentOnRoleSql(r.role, r.comment));
    const [row] = await c.query<{ oid: string }>(ROLE_OID_SQL, [r.role]);
    return Number(row?.oid);
  });
}

/**
 * Moves the role's `VALID UNTIL` to `validUntil`, if it can still log in and has not expired by `now`.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_REJECTED` when it is gone, disabled or expired.
 */
export async function extendRole(db: TargetDatabase, role: string, now: Date, validUntil: Date) {
  const [state] = await db.query<{ rolcanlogin: boolean; rolvaliduntil: Date | null }>(
    'renew: read role',
    ROLE_STATE_SQL,
    [role],
  );
  const expired = state?.rolvaliduntil instanceof Date && state.rolvaliduntil.getTime() <= now.getTime();
  if (state === undefined || !state.rolcanlogin || expired) {
    throw new BrokerError('BROKER_ADAPTER_BACKEND_REJECTED', 'credential is no longer live');
  }
  try {
    await db.query('renew: alter role', validUntilSql(role, validUntil));
  } catch (err) {
    if (isRoleMissing(err)) {
      throw new BrokerError('BROKER_ADAPTER_BACKEND_REJECTED', 'credential is no longer live');
    }
    throw err;
  }
}

/** Where and how {@link dropRole} works. */
export interface RoleRemoval {
  readonly role: string;
  readonly roleOid: number;
  /** The database the role logs in to: where login is disabled, sessions ended, the role dropped. */
  readonly main: TargetDatabase;
  /** Every database where the role may own objects or hold privileges (`main`'s included). */
  readonly cleanup: readonly TargetDatabase[];
  readonly reassignTo: string | undefined;
  /** How long pg_terminate_backend waits for each session to exit. */
  readonly terminateWaitMs: number;
}

/**
 * Revokes the role, in an order that leaves no window: (1) NOLOGIN, so no session can start; (2)
 * terminate its sessions in every database; (3) in each cleanup database REASSIGN OWNED to the
 * configured owner (or the admin) and DROP OWNED (its remaining privileges); (4) DROP ROLE.
 * Idempotent: a role already gone skips to terminating sessions left by its oid, then succeeds.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_*`; `BACKEND_REJECTED` (sqlstate 2BP01) when the role
 * still owns something in a database outside `cleanup` — it is then disabled and disconnected, not
 * dropped, and a retry finishes once the database is listed.
 */
export async function dropRole(r: RoleRemoval): Promise<void> {
  let exists = true;
  try {
    await r.main.query('revoke: disable login', disableLoginSql(r.role));
  } catch (err) {
    if (!isRoleMissing(err)) throw err;
    exists = false;
  }
  await r.main.query('revoke: terminate sessions', TERMINATE_SESSIONS_SQL, [
    r.role,
    String(r.roleOid),
    r.terminateWaitMs,
  ]);
  if (!exists) return;
  for (const db of r.cleanup) {
    try {
      await db.transaction('revoke: reassign and drop owned', async (c) => {
        await c.query(reassignOwnedSql(r.role, r.reassignTo));
        await c.query(dropOwnedSql(r.role));
      });
    } catch (err) {
      if (!isRoleMissing(err)) throw err;
      return; // dropped meanwhile (a concurrent revoke): nothing left to do
    }
  }
  await r.main.query('revoke: drop role', dropRoleSql(r.role));
}

/** What {@link revocationState} found. */
export interface RevocationState {
  readonly roleExists: boolean;
  readonly sessions: number;
}

/** Whether the role still exists in `pg_roles`, and how many sessions of it (by name or oid) remain. */
export async function revocationState(
  db: TargetDatabase,
  role: string,
  roleOid: number,
): Promise<RevocationState> {
  const [row] = await db.query<{ roles: number; sessions: number }>(
    'verify: read role and sessions',
    REVOCATION_STATE_SQL,
    [role, String(roleOid)],
  );
  return { roleExists: (row?.roles ?? 1) > 0, sessions: row?.sessions ?? 0 };
}
