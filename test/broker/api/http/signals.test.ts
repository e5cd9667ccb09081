import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { RISC_EVENT_BASE } from '../../../../broker/anomaly/set-events.js';
import { httpPortsFromApp } from '../../../../broker/api/app-ports.js';
import { createHttpServer } from '../../../../broker/api/http/server.js';
import { createApp, type App } from '../../../../broker/app.js';
import { parseConfig } from '../../../../broker/config.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { staticSource, testBundle } from '../../../support/test-ca.js';
import { TestJwtAuthority } from '../../../support/test-jwt.js';
import {
  DETECTOR,
  mintSet,
  taskSubject,
  workloadSubject,
  type SetKnobs,
} from '../../anomaly/support/set-fixtures.js';

const AGENT = 'spiffe://taskpass.local/agents/a1';
const STRICT = 'spiffe://taskpass.local/strict/s1';
const SECEVENT = 'application/secevent+jwt';
const rule = (name: string, match: unknown, replay = false) => ({
  name,
  match,
  intents: ['work'],
  providers: { 'crm-api': { scopes: ['crm:read'] } },
  max_credential_ttl: '5m',
  max_task_lifetime: '30m',
  jwt_svid_replay_protection: replay,
});
const POLICY = {
  version: 1,
  roles: { detectors: [{ id: DETECTOR }] },
  rules: [rule('strict', { id: STRICT }, true), rule('agents', { glob: 'spiffe://taskpass.local/agents/*' })],
  anomaly_responses: {
    rules: [
      { name: 'injection', kinds: ['prompt_injection'], min_severity: 'high', response: 'revoke_task' },
      { name: 'compromise', kinds: ['risc.*'], min_severity: 'critical', response: 'quarantine_workload' },
    ],
  },
};

describe('POST /v1/signals', () => {
  let dir: string;
  let app: App;
  let http: FastifyInstance;
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const authority = new TestJwtAuthority('ES256');
  const stranger = new TestJwtAuthority('ES256', authority.kid);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-signals-'));
    await writeFile(join(dir, 'policy.json'), JSON.stringify(POLICY));
    const config = parseConfig({
      env: { TASKPASS_DATA_DIR: dir, TASKPASS_POLICY_FILE: join(dir, 'policy.json') },
      cwd: dir,
    });
    app = await createApp(config, {
      clock,
      logger: pino({ level: 'silent' }),
      timers: clock,
      executor: await createPgliteExecutor(),
      taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
      bundles: staticSource(testBundle('taskpass.local', { jwt: [authority] })),
      watchPolicy: false,
    });
    http = createHttpServer(httpPortsFromApp(app), {
      logger: pino({ level: 'silent' }),
      baseUrl: config.issuer,
      metrics: new Registry(),
      defaultMetrics: false,
    });
  });
  after(async () => {
    await http?.close();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const svid = (id: string, claims: Record<string, unknown> = {}) =>
    authority.mint({ sub: id, aud: [app.config.audience], now: clock.now(), claims });
  const post = (id: string | undefined, body: unknown, type = 'application/json', token?: string) =>
    http.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: {
        'content-type': type,
        ...(id !== undefined && { authorization: `Bearer ${token ?? svid(id)}` }),
      },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const set = (knobs: SetKnobs = {}, by = authority) =>
    mintSet(by, app.config.audience, { now: clock.now(), ...knobs });

  async function startTask(id: string): Promise<string> {
    const res = await http.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: `Bearer ${svid(id)}` },
      payload: { intent: { name: 'work' }, manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }] },
    });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { id: string }).id;
  }

  it('answers a detector 202 with the signal id, the response and what it revoked', async () => {
    const taskId = await startTask(AGENT);
    const res = await post(DETECTOR, {
      kind: 'prompt_injection',
      severity: 'high',
      subject: { task_id: taskId },
      description: 'injected instructions in a ticket',
      evidence: { scanner: 'pi-guard' },
      occurred_at: '2024-12-31T23:59:00Z',
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json() as Record<string, unknown>;
    assert.deepEqual(
      [body['response'], body['rule'], body['severity']],
      ['revoke_task', 'injection', 'high'],
    );
    assert.deepEqual((body['revocation'] as { tasks: string[] }).tasks, [taskId]);
    const events = await app.store.queryEvents({
      taskId,
      types: ['signal.received', 'signal.responded', 'task.revoked'],
    });
    assert.deepEqual(
      events.items.map((e) => e.type),
      ['signal.received', 'task.revoked', 'signal.responded'],
    );
    assert.equal(events.items[0]?.details['occurred_at'], '2024-12-31T23:59:00.000Z');
    assert.equal(events.items[1]?.details['by'], `signal:${String(body['signal_id'])}`);
  });

  it('refuses an unauthenticated caller 401 and a non-detector 403, in both shapes', async () => {
    const signal = { kind: 'x', severity: 'low', subject: { workload: AGENT } };
    const cases = [
      { res: await post(undefined, signal), status: 401, code: 'BROKER_AUTH_MISSING' },
      { res: await post(AGENT, signal), status: 403, code: 'BROKER_POLICY_DENIED' },
    ];
    for (const c of cases) {
      assert.equal(c.res.statusCode, c.status);
      assert.equal((c.res.json() as { error: { code: string } }).error.code, c.code);
    }
    const sets = [
      {
        res: await post(undefined, set(), SECEVENT),
        status: 401,
        err: 'authentication_failed',
        code: 'BROKER_AUTH_MISSING',
      },
      {
        res: await post(AGENT, set({ iss: AGENT }), SECEVENT),
        status: 403,
        err: 'access_denied',
        code: 'BROKER_POLICY_DENIED',
      },
      {
        res: await post(DETECTOR, set(), SECEVENT, 'not-a-jwt'),
        status: 401,
        err: 'authentication_failed',
        code: 'BROKER_AUTH_INVALID',
      },
    ];
    for (const c of sets) {
      assert.equal(c.res.statusCode, c.status);
      const body = c.res.json() as Record<string, unknown>;
      assert.deepEqual([body['err'], body['error_code']], [c.err, c.code]);
      assert.equal(typeof body['description'], 'string');
    }
  });

  it('refuses a bad JSON signal 400 (schema, reserved kind, bad subject)', async () => {
    const bad = [
      { kind: 'x', severity: 'dire', subject: { workload: AGENT } },
      { kind: 'x', severity: 'low', subject: { workload: AGENT, task_id: randomUUID() } },
      { kind: 'broker.svid_replay', severity: 'low', subject: { workload: AGENT } },
      { kind: 'x', severity: 'low', subject: { workload: 'not-spiffe' } },
      { kind: 'x', severity: 'low', subject: { task_id: 'task-7' } },
      { kind: 'x', severity: 'low', subject: { workload: AGENT }, evidence: { blob: 'x'.repeat(5000) } },
    ];
    for (const body of bad) {
      const res = await post(DETECTOR, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal((res.json() as { error: { code: string } }).error.code, 'BROKER_INPUT_INVALID');
    }
  });

  it('accepts a CAEP/RISC SET from the detector (RFC 8935: 202)', async () => {
    const res = await post(
      DETECTOR,
      set({ subId: workloadSubject(AGENT), events: { [`${RISC_EVENT_BASE}credential-compromise`]: {} } }),
      SECEVENT,
    );
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json() as Record<string, unknown>;
    assert.deepEqual([body['kind'], body['response']], ['risc.credential_compromise', 'quarantine_workload']);
    assert.equal((body['quarantine'] as { workload: string }).workload, AGENT);
  });

  const replayed = randomUUID();
  const rows: { name: string; token: () => string; err: string; code: string; status?: number }[] = [
    {
      name: 'a bad signature',
      token: () => set({}, stranger),
      err: 'invalid_key',
      code: 'BROKER_SET_INVALID_KEY',
    },
    {
      name: 'alg none',
      token: () => set({ alg: 'none' }),
      err: 'invalid_key',
      code: 'BROKER_SET_INVALID_KEY',
    },
    {
      name: 'alg HS256',
      token: () => set({ alg: 'HS256' }),
      err: 'invalid_key',
      code: 'BROKER_SET_INVALID_KEY',
    },
    {
      name: 'an iss that is not the caller',
      token: () => set({ iss: AGENT }),
      err: 'invalid_issuer',
      code: 'BROKER_SET_INVALID_ISSUER',
    },
    {
      name: 'a wrong aud',
      token: () => set({ aud: 'crm-api' }),
      err: 'invalid_audience',
      code: 'BROKER_SET_INVALID_AUDIENCE',
    },
    { name: 'no jti', token: () => set({ jti: null }), err: 'invalid_request', code: 'BROKER_SET_MALFORMED' },
    {
      name: 'a replayed jti',
      token: () => set({ jti: replayed }),
      err: 'invalid_request',
      code: 'BROKER_SET_REPLAYED',
    },
    {
      name: 'unknown events only',
      token: () => set({ events: { 'https://example.com/event/odd': {} } }),
      err: 'invalid_request',
      code: 'BROKER_SET_UNSUPPORTED_EVENT',
    },
    {
      name: 'a bad sub_id format',
      token: () => set({ subId: { format: 'email', email: 'a@example.com' } }),
      err: 'invalid_request',
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    {
      name: 'an oversized SET',
      token: () => set({ claims: { pad: 'x'.repeat(20_000) } }),
      err: 'invalid_request',
      code: 'BROKER_SET_TOO_LARGE',
    },
    {
      name: 'a body over the limit',
      token: () => 'a'.repeat(70_000),
      err: 'invalid_request',
      code: 'BROKER_HTTP_BODY_TOO_LARGE',
      status: 413,
    },
    { name: 'garbage', token: () => 'not a jwt', err: 'invalid_request', code: 'BROKER_SET_MALFORMED' },
  ];
  for (const row of rows) {
    it(`refuses ${row.name}: ${row.status ?? 400} {err: ${row.err}, error_code: ${row.code}}, nothing recorded`, async () => {
      if (row.code === 'BROKER_SET_REPLAYED') {
        assert.equal((await post(DETECTOR, row.token(), SECEVENT)).statusCode, 202, 'first delivery');
      }
      const before = (await app.store.queryEvents({ types: ['signal.received'], limit: 1000 })).items.length;
      const res = await post(DETECTOR, row.token(), SECEVENT);
      assert.equal(res.statusCode, row.status ?? 400, res.body);
      const body = res.json() as Record<string, unknown>;
      assert.deepEqual([body['err'], body['error_code']], [row.err, row.code]);
      const now = (await app.store.queryEvents({ types: ['signal.received'], limit: 1000 })).items.length;
      assert.equal(now, before);
    });
  }

  it('a SET about a task names it with urn:taskpass:task:<id>', async () => {
    const taskId = await startTask('spiffe://taskpass.local/agents/a2');
    const res = await post(DETECTOR, set({ subId: taskSubject(taskId) }), SECEVENT);
    assert.equal(res.statusCode, 202, res.body);
    const received = await app.store.queryEvents({ taskId, types: ['signal.received'] });
    assert.deepEqual(
      [
        received.items[0]?.details['kind'],
        received.items[0]?.details['via'],
        received.items[0]?.details['detector'],
      ],
      ['caep.session_revoked', 'set', DETECTOR],
    );
  });

  it('documents both content types in the OpenAPI document', async () => {
    const doc = (await http.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<
        string,
        { post?: { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> } }
      >;
    };
    const op = doc.paths['/v1/signals']?.post;
    assert.deepEqual(Object.keys(op?.requestBody?.content ?? {}).sort(), ['application/json', SECEVENT]);
    assert.ok(op?.responses['202']);
  });

  it('wires the built-in detectors: a replayed JWT-SVID and an ended task token each raise a signal', async () => {
    const token = svid(STRICT, { jti: randomUUID() });
    const first = await http.inject({
      method: 'GET',
      url: `/v1/tasks/${randomUUID()}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(first.statusCode, 404);
    const again = await http.inject({
      method: 'GET',
      url: `/v1/tasks/${randomUUID()}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal((again.json() as { error: { code: string } }).error.code, 'BROKER_AUTH_INVALID');

    const agent = 'spiffe://taskpass.local/agents/a3';
    const taskId = await startTask(agent);
    const caller = {
      id: SpiffeId.parse(agent),
      via: 'jwt-svid' as const,
      svidExpiresAt: new Date(clock.now().getTime() + 300_000),
    };
    const issued = await app.issuance.issue(caller, { taskId, provider: 'crm-api' });
    await app.tasks.complete(caller, taskId);
    assert.deepEqual(await app.introspector.introspect(issued.secret), { active: false });

    await app.anomaly.idle();
    const signals = (await app.store.queryEvents({ types: ['signal.received'], limit: 1000 })).items;
    const replay = signals.find((e) => e.details['kind'] === 'broker.svid_replay');
    assert.deepEqual(
      [replay?.workload?.toString(), replay?.details['detector']],
      [STRICT, 'broker:svid_replay'],
    );
    const ended = signals.find((e) => e.details['kind'] === 'broker.ended_task_introspection');
    assert.equal(ended?.workload?.toString(), agent);
    assert.deepEqual((ended?.details['evidence'] as Record<string, unknown>)['task_id'], taskId);
  });
});
