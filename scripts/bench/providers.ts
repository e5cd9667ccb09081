// providers: issue latency and issue→revoke-confirmed latency per credential backend (ISSUE 5, "A
// benchmark prints issue→revoke-confirmed latency per backend").
//
//   node dist/scripts/bench/providers.js        (or `npm run bench -- providers`)
//
// One broker app (createApp, dev CA identities, one policy rule granting every provider's scope) with
// four providers configured in `config.providers`:
//
//   - jwt: the broker's own task tokens;
//   - postgres-role: a login role per credential on the bench's Postgres server (a fresh database and
//     a role prefix of its own; everything it created is dropped afterwards);
//   - vault (token mode): a real Vault/OpenBao when VAULT_ADDR and VAULT_TOKEN are set, else the
//     in-test Vault API server (test/adapters/vault/support/vault-api-server.ts) on the system clock;
//   - aws-sts (deny-policy revocation): moto's server when TASKPASS_MOTO_BIN is set (or moto_server
//     is on PATH), else `providers.aws-sts.skipped: …` is printed and the others go on.
//
// Each of TASKPASS_BENCH_ROUNDS rounds (default 30) per backend: a workload starts a task, and
//   - issue: `app.issuance.issue` (policy, provider mint, ledger commit), timed;
//   - revoke_confirmed: from the moment `app.tasks.complete` is called until the credential's
//     `credential.revocation_verified` ledger event says confirmed (the revocation worker revokes at
//     the backend, then asks it with `verifyRevoked`), polled back to back on the ledger.
// A check that answers not confirmed, or none within 30 s, counts as `unconfirmed`.
// The ledger is on Postgres: TASKPASS_BENCH_DATABASE_URL or DATABASE_URL (a fresh database, dropped
// afterwards), else a throwaway server on this machine.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { pino } from 'pino';
import { createApp, type App } from '../../broker/app.js';
import { parseConfig } from '../../broker/config.js';
import { createPgExecutor } from '../../broker/store/pg-executor.js';
import type { SqlExecutor } from '../../broker/store/sql-executor.js';
import { systemClock } from '../../spiffe/clock.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { findMoto, startMoto, type MotoServer } from '../../test/adapters/aws-sts/support/moto.js';
import { startVaultApiServer } from '../../test/adapters/vault/support/vault-api-server.js';
import { startThrowawayPostgres } from '../../test/integration/support/throwaway-postgres.js';

const NAME = 'providers';
const ROUNDS = Number(process.env['TASKPASS_BENCH_ROUNDS'] ?? '30');
/** STS's shortest session: every backend gets the same TTL. */
const TTL_SECONDS = 900;
const CONFIRM_LIMIT_MS = 30_000;
const WORKLOAD = 'spiffe://taskpass.local/bench/agent';
const RUN = randomBytes(4).toString('hex');

/** One backend under test: its provider name in the config, the scope it grants, and its cleanup. */
interface Backend {
  readonly name: string;
  readonly scope: string;
  readonly provider: Record<string, unknown>;
  close(): Promise<void>;
}

function print(figure: string, value: number | string, unit = ''): void {
  console.log(`${NAME}.${figure}: ${value}${unit ? ` ${unit}` : ''}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The Postgres server: the configured one or a throwaway; `fresh()` creates a database dropped at close. */
async function openServer(): Promise<{
  backend: string;
  admin: SqlExecutor;
  fresh(prefix: string): Promise<string>;
  close(): Promise<void>;
}> {
  const given = process.env['TASKPASS_BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  const server = given ? undefined : await startThrowawayPostgres();
  const base = given ?? server!.url;
  const admin = createPgExecutor({ url: base, max: 1 });
  const created: string[] = [];
  return {
    backend: given ? 'postgres (configured url)' : 'postgres (throwaway, same machine)',
    admin,
    async fresh(prefix) {
      const name = `${prefix}_${RUN}`;
      await admin.exec(`CREATE DATABASE ${name}`);
      created.push(name);
      return withDatabase(base, name);
    },
    async close() {
      for (const name of created.reverse()) {
        await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      }
      await admin.close();
      await server?.destroy();
    },
  };
}

function jwtBackend(): Backend {
  return {
    name: 'jwt',
    scope: 'crm:read',
    provider: { kind: 'jwt', audience: 'crm-api' },
    close: async () => undefined,
  };
}

/** A fresh target database with one template role; the run's roles are dropped at close. */
async function postgresRoleBackend(server: Awaited<ReturnType<typeof openServer>>): Promise<Backend> {
  const url = await server.fresh('benchtarget');
  const prefix = `tpb${RUN}_`;
  const reader = `${prefix}reader`;
  const target = createPgExecutor({ url, max: 1 });
  try {
    await target.exec(
      `CREATE SCHEMA app; CREATE TABLE app.tickets (id int PRIMARY KEY);
       CREATE ROLE ${reader} NOLOGIN; GRANT USAGE ON SCHEMA app TO ${reader};
       GRANT SELECT ON app.tickets TO ${reader};`,
    );
  } finally {
    await target.close();
  }
  return {
    name: 'postgres-role',
    scope: 'tickets:read',
    provider: { kind: 'postgres-role', url, role_prefix: prefix, grants: { 'tickets:read': [reader] } },
    async close() {
      // The target database first (its grants go with it), then every role of this run that is left.
      await server.admin.exec(`DROP DATABASE IF EXISTS benchtarget_${RUN} WITH (FORCE)`);
      const left = await server.admin.query<{ rolname: string }>(
        'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname = $2, rolname',
        [prefix, reader],
      );
      for (const { rolname } of left.rows) await server.admin.exec(`DROP ROLE IF EXISTS "${rolname}"`);
    },
  };
}

/** Vault: a real one from VAULT_ADDR/VAULT_TOKEN, else the in-test API server; a broker token file. */
async function vaultBackend(dir: string): Promise<Backend & { where: string }> {
  const envAddr = process.env['VAULT_ADDR'];
  const envToken = process.env['VAULT_TOKEN'];
  const real = Boolean(envAddr) && Boolean(envToken);
  const server = real ? undefined : await startVaultApiServer({ clock: systemClock });
  const address = real ? envAddr!.replace(/\/+$/, '') : server!.address;
  const root = real ? envToken! : server!.rootToken;
  const namespace = real ? process.env['VAULT_NAMESPACE'] || undefined : undefined;
  const api = async (method: string, path: string, body?: unknown, token = root) => {
    const headers: Record<string, string> = { 'X-Vault-Token': token, 'X-Vault-Request': 'true' };
    if (namespace !== undefined) headers['X-Vault-Namespace'] = namespace;
    const res = await fetch(`${address}/v1/${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`vault ${method} ${path}: ${res.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  };
  const policy = (paths: Record<string, string[]>) =>
    JSON.stringify({
      path: Object.fromEntries(Object.entries(paths).map(([p, c]) => [p, { capabilities: c }])),
    });
  const brokerPolicy = `taskpass-bench-${RUN}-broker`;
  const readPolicy = `taskpass-bench-${RUN}-kv-read`;
  let brokerToken: string | undefined;
  try {
    await api('PUT', `sys/policies/acl/${brokerPolicy}`, {
      policy: policy({
        'auth/token/create-orphan': ['update'],
        'auth/token/lookup-accessor': ['update'],
        'auth/token/revoke-accessor': ['update'],
        'sys/leases/lookup': ['update'],
        'sys/leases/revoke': ['update'],
      }),
    });
    await api('PUT', `sys/policies/acl/${readPolicy}`, {
      policy: policy({ 'secret/data/bench/*': ['read'] }),
    });
    const created = await api('POST', 'auth/token/create-orphan', {
      policies: [brokerPolicy, readPolicy],
      ttl: '2h',
      display_name: 'taskpass-bench',
    });
    brokerToken = (created!['auth'] as { client_token: string }).client_token;
  } catch (err) {
    await server?.close();
    throw err;
  }
  const tokenFile = join(dir, 'vault-broker-token');
  writeFileSync(tokenFile, `${brokerToken}\n`, { mode: 0o600 });
  return {
    name: 'vault',
    scope: 'kv:read',
    where: real ? 'vault (VAULT_ADDR)' : 'vault (in-test API server, loopback)',
    provider: {
      kind: 'vault',
      address,
      ...(namespace !== undefined && { namespace }),
      auth: { method: 'token', token_file: tokenFile },
      mode: 'token',
      no_default_policy: true,
      scopes: { 'kv:read': [readPolicy] },
    },
    async close() {
      try {
        if (real) {
          await api('POST', 'auth/token/revoke-self', {}, brokerToken).catch(() => undefined);
          await api('DELETE', `sys/policies/acl/${brokerPolicy}`).catch(() => undefined);
          await api('DELETE', `sys/policies/acl/${readPolicy}`).catch(() => undefined);
        }
      } finally {
        await server?.close();
      }
    },
  };
}

/** AWS STS and IAM on moto; the SDK's default chain gets dummy keys (restored at close). */
async function awsStsBackend(): Promise<Backend> {
  const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
  const keys = { accessKeyId: 'AKIATASKPASSBENCH001', secretAccessKey: 'x'.repeat(40) };
  let moto: MotoServer | undefined;
  try {
    moto = await startMoto();
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: keys,
      maxAttempts: 1,
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'bench',
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::123456789012:root' },
              Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
            },
          ],
        }),
      }),
    );
    iam.destroy();
  } catch (err) {
    await moto?.stop();
    throw err;
  }
  process.env['AWS_ACCESS_KEY_ID'] = keys.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = keys.secretAccessKey;
  const restore = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  const m = moto;
  return {
    name: 'aws-sts',
    scope: 's3:read:reports',
    provider: {
      kind: 'aws-sts',
      role_arn: 'arn:aws:iam::123456789012:role/bench',
      region: 'us-east-1',
      endpoint: m.endpoint,
      max_attempts: 1,
      scopes: {
        's3:read:reports': {
          actions: ['s3:GetObject', 's3:ListBucket'],
          resources: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'],
        },
      },
    },
    async close() {
      await m.stop();
      restore('AWS_ACCESS_KEY_ID', saved.id);
      restore('AWS_SECRET_ACCESS_KEY', saved.secret);
    },
  };
}

function policyFor(backends: readonly Backend[]): string {
  const grants = backends.map((b) => `      ${b.name}: { scopes: ['${b.scope}'] }`).join('\n');
  return `version: 1
rules:
  - name: bench
    match: [{ id: ${WORKLOAD} }]
    intents: [bench]
    providers:
${grants}
    max_credential_ttl: 1h
    max_task_lifetime: 1h
    quotas:
      active_tasks: 1000
      credentials_per_task: 10
      issuance_rate: { per_second: 100000, burst: 100000 }
`;
}

async function buildBroker(dir: string, url: string, backends: readonly Backend[]): Promise<App> {
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policyFor(backends));
  const config = parseConfig({
    env: { TASKPASS_DATA_DIR: dir, DATABASE_URL: url, TASKPASS_POLICY_FILE: policyFile },
    file: { providers: Object.fromEntries(backends.map((b) => [b.name, b.provider])) },
    cwd: dir,
  });
  return createApp(config, { clock: systemClock, logger: pino({ level: 'silent' }), watchPolicy: false });
}

/** The credential's revocation check: polled on the ledger back to back until it is recorded. */
async function confirmation(db: SqlExecutor, credentialId: string, t0: number): Promise<number | undefined> {
  for (;;) {
    const res = await db.query<{ confirmed: boolean }>(
      `SELECT (details->>'confirmed')::boolean AS confirmed FROM ledger_events
       WHERE credential_id = $1 AND type = 'credential.revocation_verified' ORDER BY seq`,
      [credentialId],
    );
    if (res.rows.some((r) => r.confirmed)) return performance.now() - t0;
    // An unconfirmed check is final (the worker does not check again).
    if (res.rows.length > 0) return undefined;
    if (performance.now() - t0 > CONFIRM_LIMIT_MS) return undefined;
  }
}

/** ROUNDS tasks on `backend`: issue, then complete and wait for the confirmed revocation. */
async function measure(app: App, db: SqlExecutor, backend: Backend): Promise<void> {
  const svid = await app.devCa!.mintJwtSvid({
    id: SpiffeId.parse(WORKLOAD),
    now: systemClock.now(),
    audience: [app.config.audience],
    ttlSeconds: 3600,
  });
  const caller = await app.authenticator.authenticateBearer(svid.token);
  const issue: number[] = [];
  const confirmed: number[] = [];
  let unconfirmed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const task = await app.tasks.start(caller, {
      intent: { name: 'bench' },
      manifest: [{ provider: backend.name, scopes: [backend.scope] }],
      ttlSeconds: 3600,
    });
    const i0 = performance.now();
    const issued = await app.issuance.issue(caller, {
      taskId: task.id,
      provider: backend.name,
      scopes: [backend.scope],
      ttlSeconds: TTL_SECONDS,
    });
    issue.push(performance.now() - i0);
    const t0 = performance.now();
    await app.tasks.complete(caller, task.id);
    const ms = await confirmation(db, issued.credentialId, t0);
    if (ms === undefined) unconfirmed++;
    else confirmed.push(ms);
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  for (const [figure, xs] of [
    ['issue', sorted(issue)],
    ['revoke_confirmed', sorted(confirmed)],
  ] as const) {
    print(`${backend.name}.${figure}_p50`, percentile(xs, 50).toFixed(2), 'ms');
    print(`${backend.name}.${figure}_p99`, percentile(xs, 99).toFixed(2), 'ms');
  }
  print(`${backend.name}.unconfirmed`, unconfirmed);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskpass-bench-providers-'));
  const server = await openServer();
  const backends: Backend[] = [];
  let app: App | undefined;
  let ledger: SqlExecutor | undefined;
  try {
    const url = await server.fresh('bench');
    backends.push(jwtBackend(), await postgresRoleBackend(server));
    const vault = await vaultBackend(dir);
    backends.push(vault);
    const moto = findMoto();
    if ('bin' in moto) backends.push(await awsStsBackend());
    print('backend', server.backend);
    print('vault', vault.where);
    print('rounds', ROUNDS);
    print('ttl', TTL_SECONDS, 's');
    if (!('bin' in moto)) print('aws-sts.skipped', 'moto not installed');
    app = await buildBroker(dir, url, backends);
    await app.start();
    ledger = createPgExecutor({ url, max: 1 });
    for (const backend of backends) await measure(app, ledger, backend);
  } finally {
    await ledger?.close();
    await app?.stop();
    for (const backend of backends.reverse()) {
      await backend.close().catch((err: unknown) => console.error(`${backend.name} cleanup: ${String(err)}`));
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
