// SubmitSignal and DeliverSet against a real broker app (PGlite, a policy with a detector and
// anomaly responses) behind the gRPC server on a Unix socket: the signal port's answers and refusals
// on the wire, and the ledger rows that prove what was (or was not) done.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { RISC_EVENT_BASE } from '../../../../broker/anomaly/set-events.js';
import { httpPortsFromApp } from '../../../../broker/api/app-ports.js';
import { loadBrokerProto } from '../../../../broker/api/grpc/proto.js';
import { createGrpcServer, type GrpcServer } from '../../../../broker/api/grpc/server.js';
import type { HttpPorts } from '../../../../broker/api/ports.js';
import { createApp, type App } from '../../../../broker/app.js';
import { parseConfig } from '../../../../broker/config.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { toStruct } from '../../../../spiffe/workload-api/struct-codec.js';
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
import { bearer, wrapClient, type TestClient } from './harness.js';

const { status } = grpc;
const AGENT = 'spiffe://taskpass.local/agents/a1';
const POLICY = {
  version: 1,
  roles: { detectors: [{ id: DETECTOR }] },
  rules: [
    {
      name: 'agents',
      match: { glob: 'spiffe://taskpass.local/agents/*' },
      intents: ['work'],
      providers: { 'crm-api': { scopes: ['crm:read'] } },
      max_credential_ttl: '5m',
      max_task_lifetime: '30m',
    },
  ],
  anomaly_responses: {
    rules: [
      { name: 'injection', kinds: ['prompt_injection'], min_severity: 'high', response: 'revoke_task' },
      { name: 'compromise', kinds: ['risc.*'], min_severity: 'critical', response: 'quarantine_workload' },
    ],
  },
};

describe('taskpass.v1.Broker SubmitSignal and DeliverSet', { timeout: 60_000 }, () => {
  let dir: string;
  let app: App;
  let server: GrpcServer;
  let client: TestClient;
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const authority = new TestJwtAuthority('ES256');
  const stranger = new TestJwtAuthority('ES256', authority.kid);

  async function serve(
    ports: HttpPorts,
    socket: string,
  ): Promise<{ server: GrpcServer; client: TestClient }> {
    const s = createGrpcServer(ports, { logger: pino({ level: 'silent' }), socketPath: join(dir, socket) });
    await s.listen();
    const { Client } = loadBrokerProto();
    return {
      server: s,
      client: wrapClient(new Client(s.socketAddress()!, grpc.credentials.createInsecure())),
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-grpc-signals-'));
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
    await app.start();
    ({ server, client } = await serve(httpPortsFromApp(app), 'broker.sock'));
  });
  after(async () => {
    client?.close();
    await server?.stop();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (id: string) =>
    bearer(authority.mint({ sub: id, aud: [app.config.audience], now: clock.now() }));
  const set = (knobs: SetKnobs = {}, by = authority) =>
    mintSet(by, app.config.audience, { now: clock.now(), ...knobs });
  const received = async () =>
    (await app.store.queryEvents({ types: ['signal.received'], limit: 1000 })).items.length;

  async function startTask(id: string): Promise<string> {
    const out = await client.call<{ id: string }>(
      'StartTask',
      { intent: { name: 'work' }, manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }] },
      as(id),
    );
    assert.equal(out.status, undefined, out.details);
    return out.value!.id;
  }

  it('revokes the task of a high prompt-injection signal and answers what it revoked', async () => {
    const taskId = await startTask(AGENT);
    const out = await client.call<Record<string, unknown>>(
      'SubmitSignal',
      {
        kind: 'prompt_injection',
        severity: 'high',
        subject: { task_id: taskId },
        description: 'injected instructions in a ticket',
        occurred_at: '2024-12-31T23:59:00Z',
      },
      as(DETECTOR),
    );
    assert.equal(out.status, undefined, out.details);
    const v = out.value!;
    assert.deepEqual(
      [v['kind'], v['severity'], v['response'], v['rule']],
      ['prompt_injection', 'high', 'revoke_task', 'injection'],
    );
    assert.match(String(v['signal_id']), /^[0-9a-f-]{36}$/);
    assert.deepEqual((v['revocation'] as { tasks: string[] }).tasks, [taskId]);
    assert.equal(v['quarantine'], undefined);
    assert.equal((await app.store.getTask(taskId))?.status, 'revoked');
    const events = await app.store.queryEvents({ taskId, types: ['signal.received', 'signal.responded'] });
    assert.deepEqual(
      events.items.map((e) => [e.type, e.details['signal_id']]),
      [
        ['signal.received', v['signal_id']],
        ['signal.responded', v['signal_id']],
      ],
    );
    assert.equal(events.items[0]?.details['occurred_at'], '2024-12-31T23:59:00.000Z');
    assert.equal(events.items[0]?.reason, 'injected instructions in a ticket');
  });

  it('records only a signal below every rule, with its Struct evidence, and revokes nothing', async () => {
    const taskId = await startTask(AGENT);
    const evidence = { scanner: 'pi-guard', score: 0.42, hits: ['a', 'b'], nested: { ok: true, none: null } };
    const out = await client.call<Record<string, unknown>>(
      'SubmitSignal',
      {
        kind: 'prompt_injection',
        severity: 'low',
        subject: { workload: AGENT },
        evidence: toStruct(evidence),
      },
      as(DETECTOR),
    );
    assert.equal(out.status, undefined, out.details);
    assert.deepEqual(
      [out.value?.['response'], out.value?.['rule'], out.value?.['revocation']],
      ['record_only', 'default', undefined],
    );
    assert.equal((await app.store.getTask(taskId))?.status, 'active');
    const events = await app.store.queryEvents({
      workload: SpiffeId.parse(AGENT),
      types: ['signal.received'],
    });
    const row = events.items.find((e) => e.details['signal_id'] === out.value?.['signal_id']);
    assert.deepEqual(row?.details['evidence'], evidence);
    assert.deepEqual(row?.details['subject'], { workload: AGENT });
  });

  it('accepts a SET from the detector: a critical RISC event quarantines the workload', async () => {
    const workload = 'spiffe://taskpass.local/agents/a9';
    const out = await client.call<Record<string, unknown>>(
      'DeliverSet',
      {
        set: set({
          subId: workloadSubject(workload),
          events: { [`${RISC_EVENT_BASE}credential-compromise`]: {} },
        }),
      },
      as(DETECTOR),
    );
    assert.equal(out.status, undefined, out.details);
    assert.deepEqual(
      [out.value?.['kind'], out.value?.['response'], out.value?.['rule']],
      ['risc.credential_compromise', 'quarantine_workload', 'compromise'],
    );
    const q = out.value?.['quarantine'] as { workload: string; by: string };
    assert.deepEqual([q.workload, q.by], [workload, `signal:${String(out.value?.['signal_id'])}`]);
    assert.ok(out.value?.['revocation'], 'what quarantining revoked');
  });

  it('accepts a SET about a task (urn:taskpass:task:<id>), recorded as delivered by SET', async () => {
    const taskId = await startTask('spiffe://taskpass.local/agents/a2');
    const out = await client.call('DeliverSet', { set: set({ subId: taskSubject(taskId) }) }, as(DETECTOR));
    assert.equal(out.status, undefined, out.details);
    const rows = await app.store.queryEvents({ taskId, types: ['signal.received'] });
    assert.deepEqual(
      [rows.items[0]?.details['kind'], rows.items[0]?.details['via'], rows.items[0]?.details['detector']],
      ['caep.session_revoked', 'set', DETECTOR],
    );
  });

  it('refuses a caller without the detector role PERMISSION_DENIED (BROKER_POLICY_DENIED), recording nothing', async () => {
    const before = await received();
    const signal = { kind: 'x', severity: 'critical', subject: { workload: AGENT } };
    for (const [method, request] of [
      ['SubmitSignal', signal],
      ['DeliverSet', { set: set({ iss: AGENT }) }],
    ] as const) {
      const out = await client.call(method, request, as(AGENT));
      assert.deepEqual([out.status, out.code], [status.PERMISSION_DENIED, 'BROKER_POLICY_DENIED'], method);
    }
    const none = await client.call('SubmitSignal', signal);
    assert.deepEqual([none.status, none.code], [status.UNAUTHENTICATED, 'BROKER_AUTH_MISSING']);
    assert.equal(await received(), before);
  });

  const badSignals: readonly [name: string, request: object, code?: string][] = [
    ['no kind', { severity: 'low', subject: { workload: AGENT } }],
    ['a kind with capitals', { kind: 'Prompt', severity: 'low', subject: { workload: AGENT } }],
    ['a kind over 64 characters', { kind: 'k'.repeat(65), severity: 'low', subject: { workload: AGENT } }],
    [
      'a reserved broker.* kind',
      { kind: 'broker.svid_replay', severity: 'low', subject: { workload: AGENT } },
    ],
    ['an unknown severity', { kind: 'x', severity: 'dire', subject: { workload: AGENT } }],
    ['no severity', { kind: 'x', subject: { workload: AGENT } }],
    ['no subject', { kind: 'x', severity: 'low' }],
    ['an empty subject', { kind: 'x', severity: 'low', subject: {} }],
    ['a task id that is not a uuid', { kind: 'x', severity: 'low', subject: { task_id: 'task-7' } }],
    [
      'a workload that is not a SPIFFE ID',
      { kind: 'x', severity: 'low', subject: { workload: 'not-spiffe' } },
    ],
    ['an empty description', { kind: 'x', severity: 'low', subject: { workload: AGENT }, description: '' }],
    [
      'a description over 1024 characters',
      { kind: 'x', severity: 'low', subject: { workload: AGENT }, description: 'd'.repeat(1025) },
    ],
    [
      'a bad occurred_at',
      { kind: 'x', severity: 'low', subject: { workload: AGENT }, occurred_at: 'yesterday' },
    ],
    [
      'evidence over 4 KiB',
      {
        kind: 'x',
        severity: 'low',
        subject: { workload: AGENT },
        evidence: toStruct({ blob: 'x'.repeat(5000) }),
      },
    ],
    [
      'evidence over 5 levels deep',
      {
        kind: 'x',
        severity: 'low',
        subject: { workload: AGENT },
        evidence: toStruct({ a: { b: { c: { d: { e: { f: 1 } } } } } }),
      },
    ],
    [
      'a task that does not exist',
      { kind: 'x', severity: 'low', subject: { task_id: randomUUID() } },
      'BROKER_TASK_NOT_FOUND',
    ],
  ];
  for (const [name, request, code = 'BROKER_INPUT_INVALID'] of badSignals) {
    it(`refuses a signal with ${name}: ${code}, recording nothing`, async () => {
      const before = await received();
      const out = await client.call('SubmitSignal', request, as(DETECTOR));
      const expected = code === 'BROKER_TASK_NOT_FOUND' ? status.NOT_FOUND : status.INVALID_ARGUMENT;
      assert.deepEqual([out.status, out.code], [expected, code], out.details);
      assert.equal(await received(), before);
    });
  }

  const replayed = randomUUID();
  const badSets: readonly [name: string, token: () => string, code: string][] = [
    ['garbage', () => 'not a jwt', 'BROKER_SET_MALFORMED'],
    ['no jti', () => set({ jti: null }), 'BROKER_SET_MALFORMED'],
    ['a signature by a key not in the bundle', () => set({}, stranger), 'BROKER_SET_INVALID_KEY'],
    ['alg none', () => set({ alg: 'none' }), 'BROKER_SET_INVALID_KEY'],
    ['an iss that is not the caller', () => set({ iss: AGENT }), 'BROKER_SET_INVALID_ISSUER'],
    ['a wrong aud', () => set({ aud: 'crm-api' }), 'BROKER_SET_INVALID_AUDIENCE'],
    ['a replayed jti', () => set({ jti: replayed }), 'BROKER_SET_REPLAYED'],
    [
      'unknown events only',
      () => set({ events: { 'https://example.com/event/odd': {} } }),
      'BROKER_SET_UNSUPPORTED_EVENT',
    ],
    [
      'a bad sub_id format',
      () => set({ subId: { format: 'email', email: 'a@example.com' } }),
      'BROKER_SET_BAD_SUBJECT',
    ],
    ['over 16 KiB', () => set({ claims: { pad: 'x'.repeat(20_000) } }), 'BROKER_SET_TOO_LARGE'],
    ['an empty string', () => '', 'BROKER_INPUT_INVALID'],
  ];
  for (const [name, token, code] of badSets) {
    it(`refuses a SET with ${name}: INVALID_ARGUMENT ${code}, recording nothing`, async () => {
      if (code === 'BROKER_SET_REPLAYED') {
        const first = await client.call('DeliverSet', { set: token() }, as(DETECTOR));
        assert.equal(first.status, undefined, first.details);
      }
      const before = await received();
      const out = await client.call('DeliverSet', { set: token() }, as(DETECTOR));
      assert.deepEqual([out.status, out.code], [status.INVALID_ARGUMENT, code], out.details);
      assert.equal(await received(), before);
    });
  }

  it('answers UNIMPLEMENTED (BROKER_GRPC_UNIMPLEMENTED) when the broker has no signal port', async () => {
    const { signals: _unwired, ...ports } = httpPortsFromApp(app);
    const bare = await serve(ports, 'bare.sock');
    try {
      for (const [method, request] of [
        ['SubmitSignal', { kind: 'x', severity: 'low', subject: { workload: AGENT } }],
        ['DeliverSet', { set: set() }],
      ] as const) {
        const out = await bare.client.call(method, request, as(DETECTOR));
        assert.deepEqual([out.status, out.code], [status.UNIMPLEMENTED, 'BROKER_GRPC_UNIMPLEMENTED'], method);
      }
    } finally {
      bare.client.close();
      await bare.server.stop();
    }
  });
});
