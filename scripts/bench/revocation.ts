// Time to revoke (ISSUE 4, "Everywhere, fast"): three broker processes (`taskpass serve`) on one real
// PostgreSQL, sharing their task-token keys through the database. Each round a workload starts a
// task on one replica and gets a task token; a resource server's verifier (verifier/) follows the
// revocation feed of another replica. An operator then revokes the task on a third replica, and the
// benchmark measures, from the moment the revoking call is sent:
//
//   - revocation.call: until the revoking call returns;
//   - revocation.introspect_all: until introspection on EVERY replica says inactive (polled
//     back-to-back on all three at once);
//   - revocation.verifier: until the verifier rejects the token with BROKER_TOKEN_REVOKED (polled
//     in-process, no broker call per check: it learns from the SSE feed).
//
// Even rounds revoke by an operator's `POST /v1/revocations`; odd rounds by a detector's anomaly
// signal (`POST /v1/signals`, kind prompt_injection, which the policy answers with revoke_task), so
// each figure is printed twice: `operator_*` and `signal_*`. p50 and p99 over TASKPASS_BENCH_ROUNDS
// rounds (default 200, half each). Target: p99 under 50 ms.
// Postgres: TASKPASS_BENCH_DATABASE_URL or DATABASE_URL (a fresh database, dropped afterwards), else
// a throwaway server on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPgExecutor } from '../../broker/store/pg-executor.js';
import { createDevCa, type DevCa } from '../../spiffe/ca/index.js';
import { systemClock } from '../../spiffe/clock.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import { startThrowawayPostgres } from '../../test/integration/support/throwaway-postgres.js';
import { createTaskTokenVerifier } from '../../verifier/index.js';

const NAME = 'revocation';
const REPLICAS = 3;
const ROUNDS = Number(process.env['TASKPASS_BENCH_ROUNDS'] ?? '200');
const AUDIENCE = 'taskpass-broker';
const ISSUER = 'http://taskpass-bench.invalid';
const TD = 'taskpass.local';
const WORKLOAD = `spiffe://${TD}/bench/agent`;
const OPERATOR = `spiffe://${TD}/bench/operator`;
const RESOURCE_SERVER = `spiffe://${TD}/bench/crm`;
const DETECTOR = `spiffe://${TD}/bench/guard`;

const POLICY = `version: 1
roles:
  operators: [{ id: ${OPERATOR} }]
  auditors: []
  detectors: [{ id: ${DETECTOR} }]
  resource_servers: [{ id: ${RESOURCE_SERVER} }]
rules:
  - name: bench
    match: [{ id: ${WORKLOAD} }]
    intents: [bench]
    providers:
      crm-api: { scopes: ['crm:read'] }
    max_credential_ttl: 10m
    max_task_lifetime: 1h
    quotas:
      active_tasks: 1000
      credentials_per_task: 10
      issuance_rate: { per_second: 100000, burst: 100000 }
anomaly_responses:
  default: record_only
  rules:
    - name: injection
      kinds: [prompt_injection]
      min_severity: high
      response: revoke_task
`;

function print(figure: string, value: number | string, unit = ''): void {
  console.log(`${NAME}.${figure}: ${value}${unit ? ` ${unit}` : ''}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A fresh database on the configured server or on a throwaway one. */
async function openDatabase(): Promise<{ url: string; backend: string; close(): Promise<void> }> {
  const given = process.env['TASKPASS_BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  const server = given ? undefined : await startThrowawayPostgres();
  const base = given ?? server!.url;
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = createPgExecutor({ url: base, max: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    backend: given ? 'postgres (configured url)' : 'postgres (throwaway, same machine)',
    async close() {
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.close();
      await server?.destroy();
    },
  };
}

/** One `taskpass serve` child on `port`. */
function spawnReplica(i: number, port: number, env: NodeJS.ProcessEnv): ChildProcess {
  const cli = join(import.meta.dirname, '..', '..', 'broker', 'cli', 'main.js');
  const child = spawn(process.execPath, [cli, 'serve', '--log-level', 'warn'], {
    env: {
      ...env,
      TASKPASS_HTTP_PORT: String(port),
      TASKPASS_GRPC_SOCKET: join(env['TASKPASS_DATA_DIR']!, `grpc-${i}.sock`),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`replica ${url} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replica ${url} not ready`);
}

async function call(url: string, bearer: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function introspectActive(url: string, bearer: string, token: string): Promise<boolean> {
  const res = await fetch(`${url}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  if (!res.ok) throw new Error(`introspection on ${url}: ${res.status}`);
  return ((await res.json()) as { active: boolean }).active;
}

/**
 * Polls `check` every millisecond until it is true; resolves to the elapsed time since `t0`. (Not
 * back to back: on a 2-core machine a tight loop over three replicas would itself slow the revocation
 * it is timing.)
 */
async function until(t0: number, check: () => Promise<boolean>, limitMs = 10_000): Promise<number> {
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error('revocation not observed within 10 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function svid(ca: DevCa, id: string): Promise<string> {
  const minted = await ca.mintJwtSvid({
    id: SpiffeId.parse(id),
    now: systemClock.now(),
    audience: [AUDIENCE],
    ttlSeconds: 3600,
  });
  return minted.token;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskpass-bench-revocation-'));
  const db = await openDatabase();
  const children: ChildProcess[] = [];
  let verifier: ReturnType<typeof createTaskTokenVerifier> | undefined;
  try {
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'kek'), randomBytes(32), { mode: 0o600 });
    // The replicas share the data directory's development CA (created here, before they start).
    const ca = await createDevCa({ trustDomain: TrustDomain.parse(TD), clock: systemClock, dataDir: dir });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      DATABASE_URL: db.url,
      TASKPASS_DATA_DIR: dir,
      TASKPASS_POLICY_FILE: join(dir, 'policy.yaml'),
      TASKPASS_KEY_ENCRYPTION_KEY_FILE: join(dir, 'kek'),
      TASKPASS_ISSUER: ISSUER,
      TASKPASS_AUDIENCE: AUDIENCE,
      TASKPASS_TRUST_DOMAIN: TD,
    };
    const urls: string[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = spawnReplica(i, port, env);
      children.push(child);
      // One at a time: the first applies the migrations and creates the shared signing keys.
      await waitReady(url, child);
      urls.push(url);
    }
    const [workload, operator, resourceServer, detector] = await Promise.all([
      svid(ca, WORKLOAD),
      svid(ca, OPERATOR),
      svid(ca, RESOURCE_SERVER),
      svid(ca, DETECTOR),
    ]);
    verifier = createTaskTokenVerifier({
      brokerUrl: urls[2]!,
      audience: 'crm-api',
      issuer: ISSUER,
      credentials: () => resourceServer,
    });
    await verifier.ready();
    const v = verifier;
    const rejected = async (token: string): Promise<boolean> => {
      try {
        await v.verify(token);
        return false;
      } catch (err) {
        if ((err as { code?: string }).code === 'BROKER_TOKEN_REVOKED') return true;
        throw err;
      }
    };

    const figures = {
      operator: { call: [] as number[], introspect_all: [] as number[], verifier: [] as number[] },
      signal: { call: [] as number[], introspect_all: [] as number[], verifier: [] as number[] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      const [issueAt, , revokeAt] = [urls[round % 3]!, urls[(round + 1) % 3]!, urls[(round + 2) % 3]!];
      const task = await call(`${issueAt}/v1/tasks`, workload, {
        intent: { name: 'bench' },
        manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
        ttl_seconds: 600,
      });
      const taskId = (task['task'] as { id: string } | undefined)?.id ?? (task['id'] as string);
      const issued = await call(`${issueAt}/v1/tasks/${taskId}/credentials`, workload, {
        provider: 'crm-api',
        scopes: ['crm:read'],
      });
      const token = issued['secret'] as string;
      await v.verify(token);
      for (const url of urls) {
        if (!(await introspectActive(url, resourceServer, token))) throw new Error('fresh token inactive');
      }
      const t0 = performance.now();
      const watchers = Promise.all([
        until(t0, () => rejected(token)),
        Promise.all(
          urls.map((url) => until(t0, async () => !(await introspectActive(url, resourceServer, token)))),
        ),
      ]);
      const by = round % 2 === 0 ? 'operator' : 'signal';
      if (by === 'operator') {
        await call(`${revokeAt}/v1/revocations`, operator, { task_id: taskId, reason: 'bench' });
      } else {
        const answer = await call(`${revokeAt}/v1/signals`, detector, {
          kind: 'prompt_injection',
          severity: 'high',
          subject: { task_id: taskId },
        });
        if (answer['response'] !== 'revoke_task')
          throw new Error(`signal answered ${JSON.stringify(answer)}`);
      }
      figures[by].call.push(performance.now() - t0);
      const [verifierMs, perReplica] = await watchers;
      figures[by].verifier.push(verifierMs);
      figures[by].introspect_all.push(Math.max(...perReplica));
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    print('backend', db.backend);
    print('replicas', REPLICAS);
    print('rounds', ROUNDS);
    for (const by of ['operator', 'signal'] as const) {
      for (const [figure, xs] of Object.entries(figures[by])) {
        const s = sorted(xs);
        print(`${by}_${figure}_p50`, percentile(s, 50).toFixed(2), 'ms');
        print(`${by}_${figure}_p99`, percentile(s, 99).toFixed(2), 'ms');
      }
    }
  } finally {
    verifier?.close();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
    );
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
