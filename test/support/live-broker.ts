// An in-process broker listening on loopback (real HTTP: streams stay open, unlike inject), over
// embedded PGlite, the development CA and examples/policy.yaml, for the revocation feed and verifier suites.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryTaskTokenKeyStore } from '../../adapters/jwt/key-store.js';
import { httpPortsFromApp } from '../../broker/api/app-ports.js';
import { createHttpServer } from '../../broker/api/http/server.js';
import { createApp, type App } from '../../broker/app.js';
import { parseConfig } from '../../broker/config.js';
import { createPgliteExecutor } from '../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { repositoryRoot } from './repo-root.js';

/** Workload, operator, auditor and resource server in examples/policy.yaml. */
export const DEV_WORKLOAD = 'spiffe://taskpass.local/dev/workload';
/** A workload of examples/policy.yaml without any role. */
export const AGENT = 'spiffe://taskpass.local/agents/demo';
/** A resource server of examples/policy.yaml (`resource_servers: glob spiffe://taskpass.local/tools/*`). */
export const TOOL = 'spiffe://taskpass.local/tools/crm';

/** A running in-process broker. */
export interface LiveBroker {
  readonly app: App;
  readonly http: FastifyInstance;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly clock: FakeClock;
  /** A JWT-SVID of `id` for the broker's audience (or `audience`). */
  svid(id: string, audience?: string): Promise<string>;
  /** `Authorization` for a fresh JWT-SVID of `id`. */
  bearer(id: string): Promise<{ authorization: string }>;
  /** Starts a task as the development workload and issues a `crm-api` task token for it. */
  taskWithToken(scopes?: string[]): Promise<{ taskId: string; token: string; credentialId: string }>;
  /** Completes a task as the development workload. */
  complete(taskId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a broker on a free loopback port; the fake clock starts at 2025-01-01. */
export async function startLiveBroker(): Promise<LiveBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'taskpass-live-'));
  const config = parseConfig({
    env: {
      TASKPASS_DATA_DIR: dataDir,
      TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
    },
    cwd: dataDir,
  });
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const logger = pino({ level: 'silent' });
  const app = await createApp(config, {
    clock,
    logger,
    timers: clock,
    executor: await createPgliteExecutor(),
    taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
    watchPolicy: false,
  });
  await app.start();
  const http = createHttpServer(httpPortsFromApp(app), {
    logger,
    baseUrl: config.issuer,
    metrics: new Registry(),
    defaultMetrics: false,
    docs: false,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  const svid = async (id: string, audience = app.config.audience) =>
    (await app.devCa!.mintJwtSvid({ id: SpiffeId.parse(id), now: clock.now(), audience: [audience] })).token;
  const bearer = async (id: string) => ({ authorization: `Bearer ${await svid(id)}` });
  let stopped = false;
  return {
    app,
    http,
    url,
    clock,
    svid,
    bearer,
    async taskWithToken(scopes = ['crm:read']) {
      const auth = await bearer(DEV_WORKLOAD);
      const started = await http.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: auth,
        payload: { intent: { name: 'summarize-ticket' }, manifest: [{ provider: 'crm-api', scopes }] },
      });
      if (started.statusCode !== 201) throw new Error(`start: ${started.body}`);
      const taskId = started.json<{ id: string }>().id;
      const issued = await http.inject({
        method: 'POST',
        url: `/v1/tasks/${taskId}/credentials`,
        headers: auth,
        payload: { provider: 'crm-api', scopes },
      });
      if (issued.statusCode !== 201) throw new Error(`issue: ${issued.body}`);
      const body = issued.json<{ credential: { id: string }; secret: string }>();
      return { taskId, token: body.secret, credentialId: body.credential.id };
    },
    async complete(taskId) {
      const res = await http.inject({
        method: 'POST',
        url: `/v1/tasks/${taskId}/complete`,
        headers: await bearer(DEV_WORKLOAD),
      });
      if (res.statusCode !== 200) throw new Error(`complete: ${res.body}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close();
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
