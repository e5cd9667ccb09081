// The operators' revocation routes over the real app (PGlite in memory, the development CA):
// POST /v1/revocations, /v1/revocations/retry, /v1/quarantines, /v1/quarantines/lift,
// GET /v1/quarantines, GET /v1/credentials, and the revocation figures of GET /metrics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { httpPortsFromApp } from '../../../../broker/api/app-ports.js';
import { createHttpServer } from '../../../../broker/api/http/server.js';
import { createApp, type App } from '../../../../broker/app.js';
import { parseConfig } from '../../../../broker/config.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../../fakes/fake-clock.js';

const OPERATOR = 'spiffe://taskpass.local/ops/o1';
const POLICY = `version: 1
roles:
  operators: [{ id: '${OPERATOR}' }]
rules:
  - name: agents
    match: [{ glob: 'spiffe://taskpass.local/agents/*' }]
    intents: [work]
    providers: { crm-api: { scopes: ['crm:read'] } }
    max_credential_ttl: 5m
    max_task_lifetime: 30m
`;

describe('revocation routes over createApp', { timeout: 60_000 }, () => {
  let app: App;
  let http: FastifyInstance;
  let dir: string;
  const clock = new FakeClock('2025-01-01T00:00:00Z');

  async function headers(id: string): Promise<Record<string, string>> {
    const svid = await app.devCa!.mintJwtSvid({
      id: SpiffeId.parse(id),
      now: clock.now(),
      audience: [app.config.audience],
    });
    return { authorization: `Bearer ${svid.token}` };
  }
  async function call(method: 'GET' | 'POST', url: string, as: string, payload?: unknown) {
    const res = await http.inject({
      method,
      url,
      headers: await headers(as),
      ...(payload !== undefined && { payload: payload as object }),
    });
    return {
      status: res.statusCode,
      body: res.body === '' ? undefined : res.json<Record<string, unknown>>(),
    };
  }
  const codeOf = (body: unknown) => (body as { error?: { code?: string } } | undefined)?.error?.code;

  /** An agent's task with one crm-api token; returns the ids. */
  async function task(agent: string): Promise<{ taskId: string; credentialId: string }> {
    const started = await call('POST', '/v1/tasks', agent, {
      intent: { name: 'work' },
      manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const taskId = started.body?.['id'] as string;
    const issued = await call('POST', `/v1/tasks/${taskId}/credentials`, agent, {
      provider: 'crm-api',
      scopes: ['crm:read'],
    });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    return { taskId, credentialId: (issued.body?.['credential'] as { id: string }).id };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskpass-revocation-routes-'));
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    const config = parseConfig({
      env: { TASKPASS_DATA_DIR: dir, TASKPASS_POLICY_FILE: join(dir, 'policy.yaml') },
      cwd: dir,
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
    await rm(dir, { recursive: true, force: true });
  });

  it('revokes a task: the answer lists the credential revoked, the task reads revoked', async () => {
    const agent = 'spiffe://taskpass.local/agents/a1';
    const { taskId, credentialId } = await task(agent);
    const res = await call('POST', '/v1/revocations', OPERATOR, { task_id: taskId, reason: 'incident 7' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body?.['tasks'], [taskId]);
    assert.deepEqual(res.body?.['counts'], { revoked: 1, pending: 0, not_revocable: 0 });
    assert.equal(res.body?.['exposed_until'], null);
    const [cred] = res.body?.['credentials'] as Record<string, unknown>[];
    assert.deepEqual(Object.keys(cred ?? {}).sort(), ['expires_at', 'id', 'outcome', 'provider', 'task_id']);
    assert.equal(cred?.['id'], credentialId);
    assert.equal(cred?.['outcome'], 'revoked');
    assert.match(res.body?.['revocation_id'] as string, /^[0-9a-f-]{36}$/);
    const shown = await call('GET', `/v1/tasks/${taskId}`, agent);
    assert.equal(shown.body?.['status'], 'revoked');
  });

  it('refuses malformed bodies with BROKER_INPUT_INVALID (400)', async () => {
    const cases: [string, unknown][] = [
      ['no target', { reason: 'x' }],
      ['two targets', { task_id: 'a', credential_id: 'b', reason: 'x' }],
      ['no reason', { task_id: 'a' }],
      ['empty reason', { task_id: 'a', reason: '' }],
      ['unknown member', { task_id: 'a', reason: 'x', force: true }],
      ['unknown selector member', { selector: { everything: true }, reason: 'x' }],
      ['confirm not a boolean', { selector: {}, reason: 'x', confirm: 'yes' }],
      ['started_before not a time', { selector: { started_before: 'yesterday' }, reason: 'x' }],
      ['workload not a SPIFFE ID', { workload: 'https://x', reason: 'x' }],
      ['bad glob', { selector: { spiffe_id_glob: 'spiffe://td/a-*' }, reason: 'x' }],
    ];
    for (const [name, payload] of cases) {
      const res = await call('POST', '/v1/revocations', OPERATOR, payload);
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      assert.ok(['BROKER_INPUT_INVALID', 'SPIFFE_ID_WRONG_SCHEME'].includes(codeOf(res.body) ?? ''), name);
    }
  });

  it('maps refusals to their codes and statuses', async () => {
    const agent = 'spiffe://taskpass.local/agents/a2';
    const { taskId } = await task(agent);
    const unknown = '5b8f0a52-4a3c-4d51-9e0e-2c1f5f6b7a10';
    const cases: [string, string, string, unknown, number, string][] = [
      [
        'non-operator',
        'POST',
        '/v1/revocations',
        { task_id: taskId, reason: 'x' },
        403,
        'BROKER_POLICY_DENIED',
      ],
      [
        'unknown task',
        'POST',
        '/v1/revocations',
        { task_id: unknown, reason: 'x' },
        404,
        'BROKER_TASK_NOT_FOUND',
      ],
      [
        'unknown credential',
        'POST',
        '/v1/revocations',
        { credential_id: unknown, reason: 'x' },
        404,
        'BROKER_CREDENTIAL_NOT_FOUND',
      ],
      [
        'broad selector',
        'POST',
        '/v1/revocations',
        { selector: { trust_domain: 'taskpass.local' }, reason: 'x' },
        400,
        'BROKER_REVOCATION_CONFIRM_REQUIRED',
      ],
      [
        'lift without quarantine',
        'POST',
        '/v1/quarantines/lift',
        { workload: agent, reason: 'x' },
        404,
        'BROKER_QUARANTINE_NOT_FOUND',
      ],
      [
        'retry unknown credential',
        'POST',
        '/v1/revocations/retry',
        { credential_id: unknown },
        404,
        'BROKER_CREDENTIAL_NOT_FOUND',
      ],
      ['non-operator listing', 'GET', '/v1/credentials', undefined, 403, 'BROKER_POLICY_DENIED'],
    ];
    for (const [name, method, url, payload, status, code] of cases) {
      const as = name.startsWith('non-operator') ? agent : OPERATOR;
      const res = await call(method as 'GET' | 'POST', url, as, payload);
      assert.deepEqual([res.status, codeOf(res.body)], [status, code], name);
    }
    assert.equal((await call('GET', `/v1/tasks/${taskId}`, agent)).body?.['status'], 'active');
    const anonymous = await http.inject({
      method: 'POST',
      url: '/v1/revocations',
      payload: { task_id: taskId, reason: 'x' },
    });
    assert.equal(anonymous.statusCode, 401);
  });

  it('quarantines, blocks the workload (403 BROKER_WORKLOAD_QUARANTINED), lists and lifts', async () => {
    const agent = 'spiffe://taskpass.local/agents/a3';
    const { taskId } = await task(agent);
    const q = await call('POST', '/v1/quarantines', OPERATOR, { workload: agent, reason: 'suspicious' });
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.equal(q.body?.['workload'], agent);
    assert.equal(q.body?.['by'], OPERATOR);
    assert.deepEqual((q.body?.['revocation'] as { tasks: string[] }).tasks, [taskId]);
    const start = await call('POST', '/v1/tasks', agent, { intent: { name: 'work' }, manifest: [] });
    assert.deepEqual([start.status, codeOf(start.body)], [403, 'BROKER_WORKLOAD_QUARANTINED']);
    const issue = await call('POST', `/v1/tasks/${taskId}/credentials`, agent, {
      provider: 'crm-api',
      scopes: ['crm:read'],
    });
    assert.deepEqual([issue.status, codeOf(issue.body)], [403, 'BROKER_WORKLOAD_QUARANTINED']);
    const listed = await call('GET', '/v1/quarantines', OPERATOR);
    assert.deepEqual(
      (listed.body?.['quarantines'] as { workload: string; reason: string }[]).map((x) => [
        x.workload,
        x.reason,
      ]),
      [[agent, 'suspicious']],
    );
    const lift = await call('POST', '/v1/quarantines/lift', OPERATOR, { workload: agent, reason: 'cleared' });
    assert.equal(lift.status, 204);
    assert.deepEqual((await call('GET', '/v1/quarantines', OPERATOR)).body?.['quarantines'], []);
    assert.equal(
      (await call('POST', '/v1/tasks', agent, { intent: { name: 'work' }, manifest: [] })).status,
      201,
    );
  });

  it('lists credentials with their revocation state, retries revoke_failed ones, and exports metrics', async () => {
    const { taskId, credentialId } = await task('spiffe://taskpass.local/agents/a4');
    await call('POST', '/v1/revocations', OPERATOR, { credential_id: credentialId, reason: 'leaked' });
    const page = await call('GET', `/v1/credentials?task_id=${taskId}&status=revoked`, OPERATOR);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const [c] = page.body?.['credentials'] as Record<string, unknown>[];
    assert.equal(c?.['id'], credentialId);
    assert.equal(typeof c?.['revoked_at'], 'string');
    assert.deepEqual(c?.['revocation'], {
      state: 'done',
      attempts: 1,
      last_error: null,
      next_attempt_at: null,
      outcome: 'revoked',
    });
    assert.ok(!('secret_hash' in (c ?? {})) && !('revocation_handle' in (c ?? {})));
    assert.equal((await call('GET', '/v1/credentials?status=bogus', OPERATOR)).status, 400);
    const retried = await http.inject({
      method: 'POST',
      url: '/v1/revocations/retry',
      headers: await headers(OPERATOR),
    });
    assert.equal(retried.statusCode, 200, retried.body);
    assert.deepEqual(retried.json(), { requeued: 0 });

    const metrics = await http.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /^taskpass_revocation_queue_depth\{state="pending"\} 0$/m);
    assert.match(metrics.body, /^taskpass_revocation_queue_depth\{state="failed"\} 0$/m);
    assert.match(metrics.body, /^taskpass_credentials_revoke_failed 0$/m);
    assert.match(metrics.body, /^taskpass_revocation_attempts_total\{outcome="revoked"\} [1-9]\d*$/m);
  });
});
