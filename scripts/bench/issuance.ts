// issuance: task tokens per second through the broker's real HTTP stack (ISSUE 3 "Speed"), next to a
// bare route doing only JWT-SVID verify + sign a JWT + one INSERT, at the same concurrency, on the same
// database, in the same run.
//
//   node dist/scripts/bench/issuance.js        (or `npm run bench -- issuance`)
//
// 32 workloads (distinct SPIFFE IDs from the development CA, each with its JWT-SVID and an open task)
// each POST /v1/tasks/:id/credentials back to back over keep-alive loopback HTTP. The ledger is on
// Postgres: TASKPASS_BENCH_DATABASE_URL or DATABASE_URL (a fresh schema, dropped afterwards), else a
// throwaway server on this machine (fsync=on, synchronous_commit=on). TASKPASS_BENCH_SECONDS sets
// each phase's length (default 10). Prints `issuance.<figure>: <value> <unit>` lines.
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fastify, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { signCompactJws } from '../../adapters/jwt/compact-jws.js';
import { createApp, type App } from '../../broker/app.js';
import { httpPortsFromApp } from '../../broker/api/app-ports.js';
import { createHttpServer } from '../../broker/api/http/server.js';
import { parseConfig } from '../../broker/config.js';
import { createPgExecutor } from '../../broker/store/pg-executor.js';
import type { SqlExecutor, SqlQueryable } from '../../broker/store/sql-executor.js';
import { systemClock } from '../../spiffe/clock.js';
import { verifyJwtSvid } from '../../spiffe/jwt-svid.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { startThrowawayPostgres } from '../../test/integration/support/throwaway-postgres.js';
import { drive, type LoadFigures } from './support/http-load.js';

const NAME = 'issuance';
const WORKLOADS = 32;
/** The broker's default pool size (createPgExecutor); TASKPASS_BENCH_POOL overrides it. */
const POOL_SIZE = Number(process.env['TASKPASS_BENCH_POOL'] ?? '10');
const WARMUP_MS = 1000;
const PHASE_MS = Number(process.env['TASKPASS_BENCH_SECONDS'] ?? '10') * 1000;
const BODY = JSON.stringify({ provider: 'crm-api', scopes: ['crm:read'] });
const POLICY = `version: 1
rules:
  - name: bench
    match: [{ glob: 'spiffe://taskpass.local/bench/*' }]
    intents: [bench]
    providers: { crm-api: { scopes: ['crm:read'] } }
    max_credential_ttl: 5m
    max_task_lifetime: 1h
    quotas:
      active_tasks: 10
      credentials_per_task: 1000000
      issuance_rate: { per_second: 1000000, burst: 1000000 }
`;

/** Statements `db` sent (BEGIN and COMMIT included): the database round trips. */
interface Counted {
  readonly db: SqlExecutor;
  statements(): number;
}

function counting(db: SqlExecutor): Counted {
  let n = 0;
  const wrap = (q: SqlQueryable): SqlQueryable => ({
    query: (sql, params, options) => (n++, q.query(sql, params, options)),
    exec: (sql) => (n++, q.exec(sql)),
  });
  const transaction: SqlExecutor['transaction'] = (fn) => ((n += 2), db.transaction((tx) => fn(wrap(tx))));
  return {
    db: {
      engine: db.engine,
      ...wrap(db),
      transaction,
      listen: (channel, handlers) => db.listen(channel, handlers),
      close: () => db.close(),
    },
    statements: () => n,
  };
}

function print(figure: string, value: number | string, unit = ''): void {
  console.log(`${NAME}.${figure}: ${value}${unit ? ` ${unit}` : ''}`);
}

/** The database: a fresh schema on the configured server, or a throwaway server of our own. */
async function openDatabase(): Promise<{
  url: string;
  schema: string;
  backend: string;
  close(): Promise<void>;
}> {
  const given = process.env['TASKPASS_BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const server = given ? undefined : await startThrowawayPostgres();
  const url = given ?? server!.url;
  const admin = createPgExecutor({ url, max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  return {
    url,
    schema,
    backend: given ? 'postgres (configured url)' : 'postgres (throwaway, same machine)',
    async close() {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await admin.close();
      await server?.destroy();
    },
  };
}

async function listen(server: FastifyInstance): Promise<number> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  return (server.server.address() as AddressInfo).port;
}

/** The broker on `db`: dev CA identities, the bench policy, the default-size pool on a fresh schema. */
async function buildBroker(
  url: string,
  schema: string,
  dir: string,
): Promise<{ app: App; counted: Counted }> {
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  const config = parseConfig({
    env: { TASKPASS_DATA_DIR: dir, DATABASE_URL: url, TASKPASS_POLICY_FILE: policyFile },
    cwd: dir,
  });
  const counted = counting(createPgExecutor({ url, schema, max: POOL_SIZE }));
  const app = await createApp(config, {
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    executor: counted.db,
    watchPolicy: false,
  });
  return { app, counted };
}

/** 32 workloads, each with a fresh JWT-SVID for the broker's audience and one open task. */
async function workloadsOf(app: App): Promise<{ id: SpiffeId; bearer: string; taskId: string }[]> {
  const out: { id: SpiffeId; bearer: string; taskId: string }[] = [];
  for (let i = 0; i < WORKLOADS; i++) {
    const id = SpiffeId.parse(`spiffe://taskpass.local/bench/w${i}`);
    const svid = await app.devCa!.mintJwtSvid({
      id,
      now: systemClock.now(),
      audience: [app.config.audience],
      ttlSeconds: 3600,
    });
    const caller = await app.authenticator.authenticateBearer(svid.token);
    const task = await app.tasks.start(caller, {
      intent: { name: 'bench' },
      manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
    });
    out.push({ id, bearer: svid.token, taskId: task.id });
  }
  return out;
}

/**
 * The bare route: JWT-SVID verify (every request, no cache) + sign an ES256 JWT (the broker's own
 * signer, so both paths pay the same for the signature) + one INSERT
 * (autocommit, so one synchronous commit), on the same pool size and database.
 */
async function bareServer(app: App, db: SqlExecutor): Promise<FastifyInstance> {
  await db.exec(
    'CREATE TABLE bare_issuance (id uuid PRIMARY KEY, sub text NOT NULL, token_sha text NOT NULL, at timestamptz NOT NULL)',
  );
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = fastify({ logger: false });
  server.post('/bare', async (req, reply) => {
    const bearer = (req.headers.authorization ?? '').slice('Bearer '.length);
    const now = new Date();
    const svid = await verifyJwtSvid(bearer, app.bundles, { now, audience: app.config.audience });
    const jti = randomUUID();
    const iat = Math.floor(now.getTime() / 1000);
    const token = signCompactJws(
      { alg: 'ES256', kid: 'bare', typ: 'at+jwt' },
      { scope: 'crm:read', jti, sub: svid.id.toString(), aud: 'crm-api', iat, exp: iat + 300 },
      privateKey,
    );
    await db.query('INSERT INTO bare_issuance (id, sub, token_sha, at) VALUES ($1, $2, $3, $4)', [
      jti,
      svid.id.toString(),
      createHash('sha256').update(token).digest('hex'),
      now,
    ]);
    return reply.code(201).send({ token });
  });
  return server;
}

/** Durability settings the run actually had (a figure is only meaningful with both on). */
async function durability(db: SqlExecutor): Promise<string> {
  const show = async (name: string) =>
    (await db.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? '?';
  return `synchronous_commit=${await show('synchronous_commit')} fsync=${await show('fsync')}`;
}

function report(prefix: string, f: LoadFigures): void {
  print(`${prefix}throughput`, Math.round(f.perSecond), 'per_s');
  print(`${prefix}p50`, f.p50Ms.toFixed(2), 'ms');
  print(`${prefix}p99`, f.p99Ms.toFixed(2), 'ms');
  print(`${prefix}errors`, f.errors);
  print(`${prefix}node_cpu`, f.nodeCores.toFixed(2), 'cores');
}

/** The two phases, broker then bare, at the same concurrency; prints every figure. */
async function measure(app: App, counted: Counted, broker: FastifyInstance, bare: FastifyInstance) {
  const workloads = await workloadsOf(app);
  const common = { body: BODY, expect: 201, warmupMs: WARMUP_MS, measureMs: PHASE_MS };
  const full = await drive({
    ...common,
    port: await listen(broker),
    workloads: workloads.map((w) => ({ path: `/v1/tasks/${w.taskId}/credentials`, bearer: w.bearer })),
    counter: counted.statements,
  });
  const bareFigures = await drive({
    ...common,
    port: await listen(bare),
    workloads: workloads.map((w) => ({ path: '/bare', bearer: w.bearer })),
  });
  report('', full);
  // Every statement the broker's pool sent, the ledger sealer's included, per issuance.
  print('statements_per_issuance', (full.counted / full.count).toFixed(1));
  report('bare_', bareFigures);
  print('ratio_to_bare', (full.perSecond / bareFigures.perSecond).toFixed(2));
}

/** Runs both phases and prints the figures. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskpass-bench-'));
  const db = await openDatabase();
  const { app, counted } = await buildBroker(db.url, db.schema, dir);
  const bareDb = createPgExecutor({ url: db.url, schema: db.schema, max: POOL_SIZE });
  const http = createHttpServer(httpPortsFromApp(app), {
    logger: pino({ level: 'silent' }),
    baseUrl: app.config.issuer,
    metrics: new Registry(),
    defaultMetrics: false,
    docs: false,
  });
  try {
    const bare = await bareServer(app, bareDb);
    print('backend', db.backend);
    print('durability', await durability(bareDb));
    print('path', 'http: createHttpServer + httpPortsFromApp over keep-alive loopback; bare: fastify route');
    print('workloads', WORKLOADS);
    print('pool', POOL_SIZE);
    try {
      await measure(app, counted, http, bare);
    } finally {
      await bare.close();
    }
  } finally {
    await http.close();
    await app.stop();
    await bareDb.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
