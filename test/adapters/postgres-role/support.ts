/**
 * The target cluster of the `postgres-role` suites: the real PostgreSQL server at
 * `TASKPASS_TEST_DATABASE_URL` (PGlite is one session and cannot create roles, so there is no PGlite
 * variant). Under `CI=true` a missing URL fails the suites instead of skipping them; on a developer's
 * machine they skip with a printed reason (as test/broker/store/support/backends.ts decides).
 *
 * Each run gets its own database (tables `app.tickets`, readable by the reader template, and
 * `app.payroll`, granted to no template) and its own role prefix, since roles are cluster-wide; both
 * are dropped by `cleanup()`, together with every role the run created.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const URL_VAR = 'TASKPASS_TEST_DATABASE_URL';

/** `false`, or why the suites are skipped (pass to `describe(name, { skip })`). */
export function targetSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  if (env[URL_VAR] || env['CI'] === 'true') return false;
  const reason = `${URL_VAR} is not set`;
  console.log(`# skipping the postgres-role suites: ${reason}`);
  return reason;
}

/** `url` with its user and database replaced (either may be left as is). */
export function rewriteUrl(url: string, change: { user?: string; password?: string; database?: string }) {
  const u = new URL(url);
  if (change.user !== undefined) u.username = encodeURIComponent(change.user);
  if (change.password !== undefined) u.password = encodeURIComponent(change.password);
  if (change.database !== undefined) u.pathname = `/${encodeURIComponent(change.database)}`;
  return u.toString();
}

/** One run's target database, template roles and admin roles. */
export interface Target {
  /** The superuser URL on the run's database. */
  readonly url: string;
  readonly database: string;
  /** Another database of the cluster, not the run's own (the one of `TASKPASS_TEST_DATABASE_URL`). */
  readonly otherDatabase: string;
  /** Every role this run creates starts with it (and so does the provider's `role_prefix`). */
  readonly prefix: string;
  /** Template roles: SELECT on app.tickets; INSERT/UPDATE on it; CREATE on schema app. */
  readonly reader: string;
  readonly writer: string;
  readonly creator: string;
  /** A SUPERUSER template (a non-superuser admin may not grant it). */
  readonly superTemplate: string;
  /** LOGIN CREATEROLE, not superuser, with ADMIN OPTION on the three templates. */
  readonly limitedAdmin: string;
  /** LOGIN without CREATEROLE. */
  readonly weakAdmin: string;
  /** A NOLOGIN role that can receive what revoked roles owned. */
  readonly owner: string;
  /** Runs SQL as the superuser on the run's database (or `database`). */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<R[]>;
  /** A raw provider config for this run (superuser admin unless `url` is given). */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Creates another database of this run (dropped by cleanup), with schema `app2` open to `creator`. */
  extraDatabase(): Promise<string>;
  /** Credential roles of this run that exist now. */
  credentialRoles(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Opens a connected client on `url` (the caller ends it). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session is expected in revocation tests
  await client.connect();
  return client;
}

async function once<R>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = await connect(url);
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Creates the run's database, tables and roles. @throws under CI=true when the URL is unset. */
export async function openTarget(env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const base = env[URL_VAR];
  if (!base) throw new Error(`${URL_VAR} is not set (CI=true: the postgres-role suites must run)`);
  const run = randomBytes(4).toString('hex');
  const prefix = `tpt${run}_`;
  const database = `tpr_${run}`;
  const url = rewriteUrl(base, { database });
  const databases = [database];
  const r = (name: string) => `${prefix}${name}`;
  await once(base, `CREATE DATABASE ${database}`);
  await once(
    url,
    `CREATE SCHEMA app;
     CREATE TABLE app.tickets (id int PRIMARY KEY, title text);
     INSERT INTO app.tickets VALUES (1, 'printer on fire'), (2, 'vpn down');
     CREATE TABLE app.payroll (id int PRIMARY KEY, amount int);
     INSERT INTO app.payroll VALUES (1, 100000);
     CREATE ROLE ${r('reader')} NOLOGIN; CREATE ROLE ${r('writer')} NOLOGIN;
     CREATE ROLE ${r('creator')} NOLOGIN; CREATE ROLE ${r('super')} NOLOGIN SUPERUSER;
     CREATE ROLE ${r('owner')} NOLOGIN;
     CREATE ROLE ${r('admin')} LOGIN CREATEROLE; CREATE ROLE ${r('weak')} LOGIN;
     GRANT ${r('reader')}, ${r('writer')}, ${r('creator')} TO ${r('admin')} WITH ADMIN OPTION;
     GRANT USAGE ON SCHEMA app TO ${r('reader')}, ${r('writer')}, ${r('creator')};
     GRANT SELECT ON app.tickets TO ${r('reader')};
     GRANT INSERT, UPDATE ON app.tickets TO ${r('writer')};
     GRANT CREATE ON SCHEMA app TO ${r('creator')};`,
  );
  const target: Target = {
    url,
    database,
    otherDatabase: decodeURIComponent(new URL(base).pathname.slice(1)) || 'postgres',
    prefix,
    reader: r('reader'),
    writer: r('writer'),
    creator: r('creator'),
    superTemplate: r('super'),
    limitedAdmin: r('admin'),
    weakAdmin: r('weak'),
    owner: r('owner'),
    sql: (text, params, db) =>
      once(db === undefined ? url : rewriteUrl(base, { database: db }), text, params),
    config: (extra = {}) => ({
      url,
      role_prefix: prefix,
      grants: {
        'tickets:read': [r('reader')],
        'tickets:write': [r('reader'), r('writer')],
        'crm:write': [r('writer')],
        'schema:create': [r('creator')],
      },
      statement_timeout_ms: 3000,
      connect_timeout_ms: 3000,
      ...extra,
    }),
    async extraDatabase() {
      const extra = `tpr_${run}_${databases.length}`;
      await once(base, `CREATE DATABASE ${extra}`);
      databases.push(extra);
      await once(
        rewriteUrl(base, { database: extra }),
        `CREATE SCHEMA app2; GRANT USAGE, CREATE ON SCHEMA app2 TO ${r('creator')}`,
      );
      return extra;
    },
    async credentialRoles() {
      const rows = await once<{ rolname: string }>(
        url,
        "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) AND rolname ~ '_[a-z2-7]{12}$' ORDER BY 1",
        [prefix],
      );
      return rows.map((row) => row.rolname);
    },
    async cleanup() {
      const admin = await connect(base);
      try {
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE starts_with(usename, $1)',
          [prefix],
        );
        for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        const { rows } = await admin.query<{ rolname: string }>(
          // Credential roles first: the templates and admins they depend on go after them.
          "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname ~ '_[a-z2-7]{12}$' DESC",
          [prefix],
        );
        for (const { rolname } of rows) await admin.query(`DROP ROLE IF EXISTS "${rolname}"`);
      } finally {
        await admin.end();
      }
    },
  };
  return target;
}
