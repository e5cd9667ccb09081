// The HTTP API over the real app (PGlite in memory, the development CA): the README walk-through.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { httpPortsFromApp } from '../../../broker/api/app-ports.js';
import { createHttpServer } from '../../../broker/api/http/server.js';
import { createApp, type App } from '../../../broker/app.js';
import { parseConfig } from '../../../broker/config.js';
import { createPgliteExecutor } from '../../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { repositoryRoot } from '../../support/repo-root.js';

const DEV_WORKLOAD = 'spiffe://taskpass.local/dev/workload';
const AGENT = 'spiffe://taskpass.local/agents/demo';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('httpPortsFromApp over createApp', { timeout: 60_000 }, () => {
  let app: App;
  let http: FastifyInstance;
  let dataDir: string;
  const clock = new FakeClock('2025-01-01T00:00:00Z');

  /** `Authorization` for a fresh JWT-SVID of `id` for the broker's audience. */
  async function bearer(id: string): Promise<Record<string, string>> {
    const svid = await app.devCa!.mintJwtSvid({
      id: SpiffeId.parse(id),
      now: clock.now(),
      audience: [app.config.audience],
    });
    return { authorization: `Bearer ${svid.token}` };
  }

  async function introspect(token: string, as = DEV_WORKLOAD): Promise<Record<string, unknown>> {
    const res = await http.inject({
      method: 'POST',
      url: '/oauth2/introspect',
      headers: { ...FORM, ...(await bearer(as)) },
      payload: new URLSearchParams({ token }).toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskpass-app-ports-'));
    const config = parseConfig({
      env: {
        TASKPASS_DATA_DIR: dataDir,
        TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
      },
      cwd: dataDir,
    });
    const logger = pino({ level: 'silent' });
    app = await createApp(config, {
      clock,
      logger,
      timers: clock,
      executor: await createPgliteExecutor(),
      taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
      watchPolicy: false,
    });
    await app.start();
    http = createHttpServer(httpPortsFromApp(app), {
      logger,
      baseUrl: config.issuer,
      metrics: new Registry(),
      defaultMetrics: false,
      docs: false,
    });
    await http.ready();
  });
  after(async () => {
    await http.close();
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the walk-through: start, issue, introspect, complete, inactive, audit, verify', async () => {
    const auth = await bearer(DEV_WORKLOAD);
    const started = await http.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: auth,
      payload: {
        intent: { name: 'summarize-ticket', text: 'ticket 123' },
        manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
        ttl_seconds: 600,
      },
    });
    assert.equal(started.statusCode, 201, started.body);
    const task = started.json<{ id: string; status: string; workload: string }>();
    assert.equal(task.status, 'active');
    assert.equal(task.workload, DEV_WORKLOAD);

    const issued = await http.inject({
      method: 'POST',
      url: `/v1/tasks/${task.id}/credentials`,
      headers: auth,
      payload: { provider: 'crm-api', scopes: ['crm:read'] },
    });
    assert.equal(issued.statusCode, 201, issued.body);
    const { credential, secret } = issued.json<{ credential: { status: string }; secret: string }>();
    assert.equal(credential.status, 'active');

    const active = await introspect(secret);
    assert.equal(active.active, true);
    assert.equal(active.task_id, task.id);
    assert.equal(active.sub, DEV_WORKLOAD);
    assert.equal(active.aud, 'crm-api');

    const completed = await http.inject({
      method: 'POST',
      url: `/v1/tasks/${task.id}/complete`,
      headers: auth,
    });
    assert.equal(completed.statusCode, 200, completed.body);
    assert.equal(completed.json<{ status: string }>().status, 'completed');
    assert.deepEqual(await introspect(secret), { active: false });

    const events = await http.inject({
      method: 'GET',
      url: `/v1/audit/events?task_id=${task.id}`,
      headers: auth,
    });
    assert.equal(events.statusCode, 200, events.body);
    const types = events.json<{ events: { type: string }[] }>().events.map((e) => e.type);
    for (const t of ['task.started', 'credential.issued', 'task.completed']) assert.ok(types.includes(t), t);

    await app.sealer.sealPending({ wait: true });
    const verified = await http.inject({ method: 'GET', url: '/v1/audit/verify', headers: auth });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json<{ ok: boolean }>().ok, true);
  });

  it('issues through RFC 8693 token exchange; only resource servers and operators introspect', async () => {
    const auth = await bearer(AGENT);
    const started = await http.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: auth,
      payload: {
        intent: { name: 'summarize-ticket' },
        manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
      },
    });
    assert.equal(started.statusCode, 201, started.body);
    const taskId = started.json<{ id: string }>().id;
    const exchanged = await http.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: FORM,
      payload: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: auth.authorization!.slice('Bearer '.length),
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        resource: `urn:taskpass:task:${taskId}`,
        audience: 'crm-api',
      }).toString(),
    });
    assert.equal(exchanged.statusCode, 200, exchanged.body);
    const body = exchanged.json<{ access_token: string; scope: string; token_type: string }>();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'crm:read');
    assert.equal((await introspect(body.access_token, 'spiffe://taskpass.local/tools/crm')).active, true);
    const refused = await http.inject({
      method: 'POST',
      url: '/oauth2/introspect',
      headers: { ...FORM, ...(await bearer(AGENT)) },
      payload: new URLSearchParams({ token: body.access_token }).toString(),
    });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json<{ error_code: string }>().error_code, 'BROKER_POLICY_DENIED');
  });

  it('maps a refused token exchange to an RFC 6749 error with our code', async () => {
    const auth = await bearer(AGENT);
    const res = await http.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: FORM,
      payload: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: auth.authorization!.slice('Bearer '.length),
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        resource: 'urn:taskpass:task:no-such-task',
        audience: 'crm-api',
      }).toString(),
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<{ error: string }>().error, 'invalid_target');
    assert.equal(res.json<{ error_code: string }>().error_code, 'BROKER_TASK_NOT_FOUND');
  });

  it('refuses the ledger to a workload without the auditor role, and the task list to non-operators', async () => {
    const auth = await bearer(AGENT);
    for (const url of ['/v1/audit/events', '/v1/audit/verify', '/v1/tasks']) {
      const res = await http.inject({ method: 'GET', url, headers: auth });
      assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'BROKER_POLICY_DENIED');
    }
  });

  it('serves the JWKS and readiness from the app', async () => {
    const jwks = await http.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(jwks.statusCode, 200);
    assert.deepEqual(jwks.json(), JSON.parse(JSON.stringify(app.jwks())));
    const ready = await http.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { store: true } });
  });
});
