import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigReader } from '../config-reader.js';
import { readGrants, readInteger, readName, readNames, ROLE_PREFIX_RULE } from './config-fields.js';

/**
 * The admin connection URL (it holds the admin's password): kept out of `JSON.stringify`,
 * `console.log` and string interpolation, so a logged config never shows it.
 */
export class AdminUrl {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The URL itself, for the one place that connects. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted postgres url]';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** The `sslmode` values libpq and node-postgres understand. */
export const SSL_MODES = Object.freeze([
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const);

/** Where the returned connection string points (the workload's view of the target database). */
export interface TargetEndpoint {
  /** A host name, an IP address, or a Unix-socket directory (starting with `/`). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: (typeof SSL_MODES)[number] | undefined;
}

/** Parsed configuration of one `postgres-role` provider (e.g. `analytics-db`). */
export interface PostgresRoleConfig {
  /** The admin connection (a role with CREATEROLE); its database part is replaced per database. */
  readonly adminUrl: AdminUrl;
  /** Scope → the template roles a credential for that scope is granted. */
  readonly grants: ReadonlyMap<string, readonly string[]>;
  /** First characters of every role name this provider creates (`tp_`). */
  readonly rolePrefix: string;
  readonly connection: TargetEndpoint;
  /** Databases where revocation reassigns and drops what a role owns: the target database first. */
  readonly cleanupDatabases: readonly string[];
  /** New owner of what a revoked role owned; undefined: the admin role itself. */
  readonly reassignOwnedTo: string | undefined;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly poolSize: number;
  /** `CONNECTION LIMIT` of every role. */
  readonly connectionLimit: number;
  /** Longest credential lifetime; longer requests are shortened to it. */
  readonly maxTtlSeconds: number;
}

/** Where `url_env` and `url_file` are read (injected so tests need no process state). */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): string;
}

/** The process environment and the file system. */
export const PROCESS_SOURCES: ConfigSources = Object.freeze({
  env: process.env,
  readFile: (path: string) => readFileSync(path, 'utf8'),
});

const FIELDS = [
  'url',
  'url_env',
  'url_file',
  'grants',
  'role_prefix',
  'connection',
  'cleanup_databases',
  'reassign_owned_to',
  'statement_timeout_ms',
  'connect_timeout_ms',
  'pool_size',
  'connection_limit',
  'max_ttl',
];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads the one admin URL source given; undefined (with a problem recorded) when it is unusable. */
function readAdminUrl(raw: Record<string, unknown>, reader: ConfigReader, sources: ConfigSources) {
  const given = (['url', 'url_env', 'url_file'] as const).filter((k) => raw[k] !== undefined);
  if (given.length !== 1) {
    reader.problem(`url: give exactly one of url, url_env, url_file`);
    return undefined;
  }
  const key = given[0]!;
  const value = reader.string(key);
  if (value === '') return undefined;
  let url: string | undefined = value;
  if (key === 'url_env') {
    if (!ENV_NAME.test(value)) return void reader.problem('url_env: must be an environment variable name');
    url = sources.env[value]?.trim() || undefined;
    if (url === undefined) return void reader.problem(`url_env: ${value} is not set`);
  } else if (key === 'url_file') {
    try {
      url = sources.readFile(value).trim();
    } catch {
      return void reader.problem('url_file: cannot be read');
    }
  }
  // Never echo the value: it carries the admin password.
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    return void reader.problem(`${key}: must hold a postgres:// or postgresql:// url`);
  }
  return { url, parsed };
}

/** The admin URL's endpoint: what `connection` defaults to. */
function urlEndpoint(url: URL | undefined) {
  const host = url?.hostname.replace(/^\[(.*)\]$/, '$1') || url?.searchParams.get('host') || undefined;
  const port = url?.port ? Number(url.port) : 5432;
  const path = url?.pathname.replace(/^\//, '');
  return { host, port, database: path ? decodeURIComponent(path) : undefined };
}

function readConnection(raw: unknown, reader: ConfigReader, fallback: ReturnType<typeof urlEndpoint>) {
  const sub = raw ?? {};
  if (typeof sub !== 'object' || sub === null || Array.isArray(sub)) {
    reader.problem('connection: must be an object');
    return undefined;
  }
  const c = new ConfigReader(sub, ['host', 'port', 'database', 'sslmode']);
  const obj = sub as Record<string, unknown>;
  const host = obj['host'] === undefined ? fallback.host : c.string('host');
  const port = readInteger(obj, 'port', fallback.port, 1, 65535, (p) => c.problem(p));
  const database = readName(obj, 'database', (p) => c.problem(p)) ?? fallback.database;
  const sslmode = obj['sslmode'] === undefined ? undefined : c.oneOf('sslmode', SSL_MODES, 'prefer');
  if (host === undefined) c.problem('host: required when the admin url names no host');
  if (database === undefined) c.problem('database: required when the admin url names no database');
  try {
    return c.finish({ host: host ?? '', port, database: database ?? '', sslmode });
  } catch (err) {
    for (const p of (err as { problems: readonly string[] }).problems) reader.problem(`connection.${p}`);
    return undefined;
  }
}

/**
 * Validates a `postgres-role` provider's configuration (without its `kind`): exactly one of `url`,
 * `url_env` (the name of an environment variable holding the URL) or `url_file` (a file holding it);
 * `grants` (scope → non-empty list of template roles); `role_prefix` (default `tp_`); `connection`
 * (`host`, `port`, `database`, `sslmode` of the returned connection string, each defaulting to the
 * admin URL's); `cleanup_databases`; `reassign_owned_to`; `statement_timeout_ms` (default 5000),
 * `connect_timeout_ms` (5000), `pool_size` (4), `connection_limit` (5), `max_ttl` (1h, at most 7d).
 * Problems never quote the URL.
 *
 * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem.
 */
export function parsePostgresRoleConfig(
  raw: unknown,
  sources: ConfigSources = PROCESS_SOURCES,
): PostgresRoleConfig {
  const reader = new ConfigReader(raw, FIELDS);
  const obj = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  const report = (p: string) => reader.problem(p);
  const admin = readAdminUrl(obj, reader, sources);
  const grants = readGrants(obj['grants'], report);
  const rolePrefix = obj['role_prefix'] === undefined ? 'tp_' : reader.string('role_prefix');
  if (rolePrefix !== '' && !ROLE_PREFIX_RULE.test(rolePrefix)) {
    reader.problem('role_prefix: 1 to 30 of a-z, 0-9, _; starts with a letter or _; not pg_');
  }
  // Without a usable URL there is nothing to default from: report only the URL, not its fallout.
  const fallback = admin ? urlEndpoint(admin.parsed) : { host: '', port: 5432, database: '' };
  const connection = readConnection(obj['connection'], reader, fallback);
  const extra = readNames(obj, 'cleanup_databases', report) ?? [];
  const owner = readName(obj, 'reassign_owned_to', report);
  const config = {
    adminUrl: new AdminUrl(admin?.url ?? ''),
    grants,
    rolePrefix,
    connection: connection ?? { host: '', port: 5432, database: '', sslmode: undefined },
    cleanupDatabases: [...new Set([connection?.database ?? '', ...extra])],
    reassignOwnedTo: owner,
    statementTimeoutMs: readInteger(obj, 'statement_timeout_ms', 5000, 100, 600_000, report),
    connectTimeoutMs: readInteger(obj, 'connect_timeout_ms', 5000, 100, 600_000, report),
    poolSize: readInteger(obj, 'pool_size', 4, 1, 100, report),
    connectionLimit: readInteger(obj, 'connection_limit', 5, 1, 1000, report),
    maxTtlSeconds: reader.duration('max_ttl', 3600, 7 * 86400),
  };
  Object.freeze(config.connection);
  Object.freeze(config.cleanupDatabases);
  return reader.finish(config);
}
