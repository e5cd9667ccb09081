/**
 * The pieces of one `postgres-role` credential: its role name, its password, the connection string
 * handed to the workload, and the revocation handle persisted by the broker (which never holds the
 * password: the broker keeps none, PostgreSQL keeps only a SCRAM verifier).
 */
import { randomBytes } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';
import type { TargetEndpoint } from './config.js';

/** The revocation handle: the role, where it logs in, its oid (to find orphaned sessions), its expiry. */
export type PostgresRoleHandle = {
  readonly role: string;
  readonly database: string;
  readonly roleOid: number;
  readonly expiresAt: string;
};

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const RANDOM_CHARS = 12;
/** What the adapter's role names look like after the prefix: `<task id part>_<12 random base32>`. */
const NAME_TAIL = /^[a-z0-9]{1,8}_[a-z2-7]{12}$/;

/** Twelve lowercase base32 characters (60 bits) from `entropy` (at least 8 bytes). */
function base32(entropy: Buffer): string {
  let bits = 0n;
  for (const byte of entropy.subarray(0, 8)) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < RANDOM_CHARS; i++) out += BASE32[Number((bits >> BigInt(5 * i)) & 31n)];
  return out;
}

/**
 * `<prefix><first 8 letters/digits of the task id>_<12 random base32>`: lowercase (no quoting
 * surprises in psql or logs), at most 30 + 8 + 1 + 12 = 51 bytes (PostgreSQL truncates names at 63),
 * and traceable to its task by the operator of the target database.
 */
export function roleName(prefix: string, taskId: string, entropy: Buffer): string {
  const task =
    taskId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8) || 'task';
  return `${prefix}${task}_${base32(entropy)}`;
}

/** True when `role` is a name {@link roleName} made with `prefix`: revocation touches no other role. */
export function isOwnRoleName(prefix: string, role: string): boolean {
  return role.startsWith(prefix) && NAME_TAIL.test(role.slice(prefix.length));
}

/** A fresh password: 32 random bytes, URL-safe base64 (43 characters, no escaping needed anywhere). */
export function newPassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The libpq/node-postgres connection URI for the credential (PostgreSQL §34.1.1): user and password
 * percent-encoded; a Unix-socket directory goes in `host=` since it cannot be a URI host.
 */
export function connectionString(endpoint: TargetEndpoint, role: string, password: string): string {
  const user = `${encodeURIComponent(role)}:${encodeURIComponent(password)}`;
  const db = encodeURIComponent(endpoint.database);
  const params = new URLSearchParams();
  let authority: string;
  if (endpoint.host.startsWith('/')) {
    authority = '';
    params.set('host', endpoint.host);
    params.set('port', String(endpoint.port));
  } else {
    authority = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  }
  if (endpoint.sslmode !== undefined) params.set('sslmode', endpoint.sslmode);
  const query = params.size > 0 ? `?${params.toString()}` : '';
  return `postgres://${user}@${authority}/${db}${query}`;
}

/**
 * Validates a stored handle.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
 */
export function parsePostgresRoleHandle(raw: unknown): PostgresRoleHandle {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const { role, database, roleOid, expiresAt } = raw as Record<string, unknown>;
    const valid =
      typeof role === 'string' &&
      /^[a-z_][a-z0-9_]{0,62}$/.test(role) &&
      typeof database === 'string' &&
      database !== '' &&
      typeof roleOid === 'number' &&
      Number.isSafeInteger(roleOid) &&
      roleOid > 0 &&
      roleOid <= 0xffffffff &&
      typeof expiresAt === 'string' &&
      !Number.isNaN(Date.parse(expiresAt));
    if (valid) return Object.freeze({ role, database, roleOid, expiresAt });
  }
  throw new BrokerError('BROKER_ADAPTER_BAD_HANDLE', 'expected {role, database, roleOid, expiresAt}');
}
