import { randomBytes } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';
import {
  checkIssueRequest,
  type CredentialAdapter,
  type HandleContext,
  type IssueContext,
  type IssuedCredential,
  type RenewContext,
  type RenewedCredential,
  type RevocationCheck,
} from '../credential-adapter.js';
import { openTargetDatabase, TargetStatementError, type TargetDatabase } from './client.js';
import {
  parsePostgresRoleConfig,
  PROCESS_SOURCES,
  type ConfigSources,
  type PostgresRoleConfig,
} from './config.js';
import {
  connectionString,
  isOwnRoleName,
  newPassword,
  parsePostgresRoleHandle,
  roleName,
  type PostgresRoleHandle,
} from './credential.js';
import { createRole, dropRole, extendRole, revocationState } from './role-ops.js';
import { scramSha256Verifier } from './scram.js';

/** The `kind` of the provider in configuration. */
export const POSTGRES_ROLE_ADAPTER_KIND = 'postgres-role';

/** What {@link createPostgresRoleAdapter} may be given (tests); each has a production default. */
export interface PostgresRoleAdapterDeps {
  /** Where `url_env` and `url_file` are read (default: the process environment and file system). */
  readonly sources?: ConfigSources;
  /** Random bytes for the random part of role names (default `crypto.randomBytes`). */
  readonly nameEntropy?: (size: number) => Buffer;
}

/** The `postgres-role` adapter; {@link close} ends its connection pools. */
export interface PostgresRoleAdapter extends CredentialAdapter<PostgresRoleConfig, PostgresRoleHandle> {
  close(): Promise<void>;
}

/**
 * Creates the `postgres-role` provider: dynamic database credentials (DESIGN.md, "Postgres roles").
 * `issue` creates a LOGIN role with a random password, `VALID UNTIL` the credential's expiry, and the
 * template roles the provider grants for the requested scopes, all in one transaction; the secret is
 * a `postgres://` connection string. `revoke` disables the role, terminates its sessions, reassigns
 * and drops what it owns, and drops it. `renew` moves `VALID UNTIL`. `verifyRevoked` confirms at the
 * server that the role is gone from `pg_roles` and that no session of it remains — the password is
 * never stored, so a login attempt cannot be the probe; a missing role is what makes every login fail.
 *
 * Pools are opened per provider instance and database on first use, and closed by `close()`; idle
 * connections end after 10 s and never keep the process alive.
 */
export function createPostgresRoleAdapter(deps: PostgresRoleAdapterDeps = {}): PostgresRoleAdapter {
  const sources = deps.sources ?? PROCESS_SOURCES;
  const entropy = deps.nameEntropy ?? randomBytes;
  const pools = new Map<PostgresRoleConfig, Map<string, TargetDatabase>>();

  const pool = (config: PostgresRoleConfig, database: string): TargetDatabase => {
    let byDb = pools.get(config);
    if (byDb === undefined) pools.set(config, (byDb = new Map()));
    let db = byDb.get(database);
    if (db === undefined) {
      db = openTargetDatabase({
        url: config.adminUrl.reveal(),
        database,
        max: config.poolSize,
        connectTimeoutMs: config.connectTimeoutMs,
        statementTimeoutMs: config.statementTimeoutMs,
      });
      byDb.set(database, db);
    }
    return db;
  };

  return Object.freeze({
    kind: POSTGRES_ROLE_ADAPTER_KIND,
    revocability: 'revocable' as const,
    parseConfig: (raw: unknown) => parsePostgresRoleConfig(raw, sources),
    parseHandle: parsePostgresRoleHandle,
    issue: (ctx: IssueContext<PostgresRoleConfig>) => issueRole(ctx, pool, entropy),

    async revoke({ config, handle }: HandleContext<PostgresRoleConfig, PostgresRoleHandle>): Promise<void> {
      checkOwnRole(config, handle);
      const databases = [...new Set([handle.database, ...config.cleanupDatabases])];
      await dropRole({
        role: handle.role,
        roleOid: handle.roleOid,
        main: pool(config, handle.database),
        cleanup: databases.map((d) => pool(config, d)),
        reassignTo: config.reassignOwnedTo,
        terminateWaitMs: Math.max(1, Math.floor(config.statementTimeoutMs / 2)),
      });
    },

    async renew(ctx: RenewContext<PostgresRoleConfig, PostgresRoleHandle>) {
      const { config, handle, now } = ctx;
      checkOwnRole(config, handle);
      if (!Number.isSafeInteger(ctx.ttlSeconds) || ctx.ttlSeconds <= 0) {
        throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'ttl must be a positive whole number of seconds');
      }
      const ttl = Math.min(ctx.ttlSeconds, config.maxTtlSeconds);
      const expiresAt = new Date(now.getTime() + ttl * 1000);
      await extendRole(pool(config, handle.database), handle.role, now, expiresAt);
      const renewed: RenewedCredential<PostgresRoleHandle> = {
        handle: Object.freeze({ ...handle, expiresAt: expiresAt.toISOString() }),
        expiresAt,
      };
      return renewed;
    },

    async verifyRevoked({ config, handle }: HandleContext<PostgresRoleConfig, PostgresRoleHandle>) {
      checkOwnRole(config, handle);
      const state = await revocationState(pool(config, handle.database), handle.role, handle.roleOid);
      const check: RevocationCheck = state.roleExists
        ? { confirmed: false, detail: `role ${handle.role} still exists in pg_roles` }
        : state.sessions > 0
          ? {
              confirmed: false,
              detail: `role ${handle.role} is dropped but ${state.sessions} session(s) remain`,
            }
          : { confirmed: true, detail: `role ${handle.role} is absent from pg_roles and has no session` };
      return check;
    },

    async close(): Promise<void> {
      const all = [...pools.values()].flatMap((byDb) => [...byDb.values()]);
      pools.clear();
      await Promise.all(all.map((db) => db.close()));
    },
  });
}

/** The union of the template roles granted for `scopes`, in grant order. */
function templatesFor(config: PostgresRoleConfig, scopes: readonly string[]): string[] {
  if (scopes.length === 0) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'a postgres role needs at least one scope');
  }
  const templates = new Set<string>();
  for (const scope of scopes) {
    const granted = config.grants.get(scope);
    if (granted === undefined) {
      throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', `scope ${scope} has no grants in this provider`);
    }
    granted.forEach((t) => templates.add(t));
  }
  return [...templates];
}

async function issueRole(
  ctx: IssueContext<PostgresRoleConfig>,
  pool: (config: PostgresRoleConfig, database: string) => TargetDatabase,
  entropy: (size: number) => Buffer,
): Promise<IssuedCredential<PostgresRoleHandle>> {
  checkIssueRequest(ctx);
  const { config } = ctx;
  const templates = templatesFor(config, ctx.scopes);
  const ttl = Math.min(ctx.ttlSeconds, config.maxTtlSeconds);
  const expiresAt = new Date(ctx.now.getTime() + ttl * 1000);
  const password = newPassword();
  const verifier = await scramSha256Verifier(password);
  const database = config.connection.database;
  const db = pool(config, database);
  const comment = `taskpass: task ${ctx.taskId}, workload ${ctx.workload.toString()}`;
  // A taken name (42710) is retried once with fresh randomness; twice in a row is reported.
  for (let attempt = 1; ; attempt++) {
    const role = roleName(config.rolePrefix, ctx.taskId, entropy(8));
    try {
      const roleOid = await createRole(db, {
        role,
        verifier,
        validUntil: expiresAt,
        connectionLimit: config.connectionLimit,
        templates,
        comment,
      });
      const handle = Object.freeze({ role, database, roleOid, expiresAt: expiresAt.toISOString() });
      const secret = connectionString(config.connection, role, password);
      return { secret, handle, expiresAt, renewable: true };
    } catch (err) {
      const taken = err instanceof TargetStatementError && err.sqlstate === '42710';
      if (!taken || attempt >= 2) throw err;
    }
  }
}

/**
 * Refuses a handle naming a role this provider would not have created: a tampered issuance row must
 * not make the broker drop or disable an application's own role.
 */
function checkOwnRole(config: PostgresRoleConfig, handle: PostgresRoleHandle): void {
  if (!isOwnRoleName(config.rolePrefix, handle.role)) {
    throw new BrokerError('BROKER_ADAPTER_BAD_HANDLE', 'role is not one this provider creates');
  }
}

export { parsePostgresRoleConfig, type PostgresRoleConfig } from './config.js';
export { parsePostgresRoleHandle, type PostgresRoleHandle } from './credential.js';
