/**
 * Every SQL statement the `postgres-role` adapter sends to its TARGET database (the broker's own
 * database keeps its SQL in `broker/store/`). Role-management statements (CREATE/ALTER/DROP ROLE,
 * GRANT, REASSIGN/DROP OWNED, COMMENT) take no bind parameters, so they are built here with
 * {@link quoteIdent} and {@link quoteLiteral}; everything else binds its values. Catalog names are
 * schema-qualified so a crafted `search_path` cannot substitute them.
 */
import { BrokerError } from '../../broker/errors.js';

function refuseNul(value: string): void {
  // A NUL byte cannot travel in a PostgreSQL string: refuse rather than let the server truncate.
  if (value.includes('\0')) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'sql identifier or literal contains a nul byte');
  }
}

/**
 * Quotes an SQL identifier (PostgreSQL §4.1.1 "Quoted identifiers": wrap in double quotes, double any
 * embedded double quote), so every role name is taken verbatim and never as SQL.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` for an empty name or one with a NUL byte.
 */
export function quoteIdent(name: string): string {
  refuseNul(name);
  if (name.length === 0) throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'sql identifier is empty');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes an SQL string literal (PostgreSQL §4.1.2.1/§4.1.2.2): single quotes are doubled; a value with
 * a backslash uses the escape-string form `E'…'` with backslashes doubled, which means the same
 * whatever `standard_conforming_strings` is.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` for a value with a NUL byte.
 */
export function quoteLiteral(value: string): string {
  refuseNul(value);
  const body = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

function wholeNumber(n: number): string {
  if (!Number.isSafeInteger(n)) throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'not a whole number');
  return String(n);
}

/** `server_version_num` as an integer (150018 for 15.18): decides how the admin keeps hold of its roles. */
export const SERVER_VERSION_SQL = "SELECT pg_catalog.current_setting('server_version_num')::int AS version";

/**
 * PostgreSQL ≥ 16: a CREATEROLE (non-superuser) admin is granted only ADMIN OPTION on the roles it
 * creates; this makes that grant also INHERIT, which REASSIGN OWNED, DROP OWNED and
 * pg_terminate_backend require. Local to the issuing transaction.
 */
export const SELF_GRANT_INHERIT_SQL = "SET LOCAL createrole_self_grant = 'inherit'";

/**
 * The credential's role. `verifier` is a SCRAM-SHA-256 verifier, never the password itself, so the
 * password is not in the statement a server may log. Every privilege beyond LOGIN is spelled out as
 * denied rather than left to defaults.
 */
export function createRoleSql(role: string, verifier: string, validUntil: Date, connectionLimit: number) {
  return (
    `CREATE ROLE ${quoteIdent(role)} WITH LOGIN PASSWORD ${quoteLiteral(verifier)}` +
    ` VALID UNTIL ${quoteLiteral(validUntil.toISOString())}` +
    ' INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS' +
    ` CONNECTION LIMIT ${wholeNumber(connectionLimit)}`
  );
}

/** PostgreSQL ≤ 15: makes the admin a member of `role` (see {@link SELF_GRANT_INHERIT_SQL}). */
export function grantRoleToAdminSql(role: string): string {
  return `GRANT ${quoteIdent(role)} TO CURRENT_USER`;
}

/** Grants the provider's template roles for the requested scopes. */
export function grantTemplatesSql(templates: readonly string[], role: string): string {
  return `GRANT ${templates.map(quoteIdent).join(', ')} TO ${quoteIdent(role)}`;
}

/** Names the task and workload on the role, for the target database's operators. */
export function commentOnRoleSql(role: string, comment: string): string {
  return `COMMENT ON ROLE ${quoteIdent(role)} IS ${quoteLiteral(comment)}`;
}

/** `$1` role name → its oid (as text: an oid may exceed int4). */
export const ROLE_OID_SQL = 'SELECT oid::text AS oid FROM pg_catalog.pg_roles WHERE rolname = $1';

/** `$1` role name → whether it may log in, and until when. */
export const ROLE_STATE_SQL = 'SELECT rolcanlogin, rolvaliduntil FROM pg_catalog.pg_roles WHERE rolname = $1';

/** Moves the role's password expiry (renewal). */
export function validUntilSql(role: string, validUntil: Date): string {
  return `ALTER ROLE ${quoteIdent(role)} VALID UNTIL ${quoteLiteral(validUntil.toISOString())}`;
}

/** Revocation step 1: no new session can start as the role. */
export function disableLoginSql(role: string): string {
  return `ALTER ROLE ${quoteIdent(role)} NOLOGIN`;
}

/**
 * The sessions of a role: by name, or, once the role is dropped (the name then reads NULL), by its
 * remembered oid. `$1` role name, `$2` role oid.
 */
const SESSIONS_OF_ROLE =
  'FROM pg_catalog.pg_stat_activity WHERE usename = $1 OR (usename IS NULL AND usesysid = $2::oid)';

/**
 * Revocation step 2: terminates every session of the role in every database of the cluster, waiting
 * up to `$3` ms for each to exit. One row per session: `terminated` false when it outlived the wait.
 */
export const TERMINATE_SESSIONS_SQL = `SELECT pid, pg_catalog.pg_terminate_backend(pid, $3) AS terminated ${SESSIONS_OF_ROLE}`;

/** Revocation step 3a (per database): hands what the role owns to `owner`, or to the admin. */
export function reassignOwnedSql(role: string, owner: string | undefined): string {
  return `REASSIGN OWNED BY ${quoteIdent(role)} TO ${owner === undefined ? 'CURRENT_USER' : quoteIdent(owner)}`;
}

/** Revocation step 3b (per database): drops the privileges granted to the role (and anything left). */
export function dropOwnedSql(role: string): string {
  return `DROP OWNED BY ${quoteIdent(role)}`;
}

/** Revocation step 4. `IF EXISTS`: a role already gone is a revocation already done. */
export function dropRoleSql(role: string): string {
  return `DROP ROLE IF EXISTS ${quoteIdent(role)}`;
}

/** `$1` role name, `$2` oid → whether the role exists and how many of its sessions remain. */
export const REVOCATION_STATE_SQL =
  'SELECT (SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1)::int AS roles,' +
  ` (SELECT count(*) ${SESSIONS_OF_ROLE})::int AS sessions`;
