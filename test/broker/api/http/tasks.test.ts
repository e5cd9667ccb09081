import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearer, harness, OTHER_WORKLOAD, TOKENS, WORKLOAD } from './fakes.js';

const START = {
  intent: { name: 'summarise', text: 'ticket 123' },
  manifest: [{ provider: 'crm-api', scopes: ['crm.read', 'crm.write'] }],
  ttl_seconds: 900,
};

describe('workload task routes', () => {
  it('starts a task for the caller (201, snake_case view)', async () => {
    const { app, fake } = harness();
    const res = await app.inject({ method: 'POST', url: '/v1/tasks', headers: bearer(), payload: START });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.workload, WORKLOAD.toString());
    assert.equal(body.status, 'active');
    assert.deepEqual(body.intent, START.intent);
    assert.deepEqual(body.manifest, START.manifest);
    assert.equal(body.created_at, '2025-01-01T00:00:00.000Z');
    assert.equal(body.deadline, '2025-01-01T00:15:00.000Z');
    assert.equal(body.parent_task_id, null);
    assert.ok(fake.tasks.has(body.id));
  });

  it('shows the caller its task', async () => {
    const { app, fake } = harness();
    const task = fake.seedTask();
    const res = await app.inject({ method: 'GET', url: `/v1/tasks/${task.id}`, headers: bearer() });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().id, task.id);
  });

  it("answers another workload's task exactly as a missing one", async () => {
    const { app, fake } = harness();
    const task = fake.seedTask(OTHER_WORKLOAD);
    const theirs = await app.inject({ method: 'GET', url: `/v1/tasks/${task.id}`, headers: bearer() });
    const missing = await app.inject({ method: 'GET', url: '/v1/tasks/task-999', headers: bearer() });
    assert.equal(theirs.statusCode, 404);
    assert.deepEqual(theirs.json(), missing.json());
    assert.equal(theirs.json().error.code, 'BROKER_TASK_NOT_FOUND');
  });

  for (const [action, status] of [
    ['complete', 'completed'],
    ['fail', 'failed'],
  ] as const) {
    it(`${action}s a task with or without a body`, async () => {
      const { app, fake } = harness();
      const a = fake.seedTask();
      const b = fake.seedTask();
      const bare = await app.inject({
        method: 'POST',
        url: `/v1/tasks/${a.id}/${action}`,
        headers: bearer(),
      });
      const withBody = await app.inject({
        method: 'POST',
        url: `/v1/tasks/${b.id}/${action}`,
        headers: bearer(),
        payload: action === 'fail' ? { reason: 'tool crashed' } : {},
      });
      assert.equal(bare.statusCode, 200);
      assert.equal(bare.json().status, status);
      assert.equal(withBody.statusCode, 200);
      assert.equal(withBody.json().status, status);
    });
  }

  it('refuses to end a task twice with 409', async () => {
    const { app, fake } = harness();
    const task = fake.seedTask();
    await app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/complete`, headers: bearer() });
    const res = await app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/complete`, headers: bearer() });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.code, 'BROKER_TASK_ALREADY_ENDED');
  });

  it('issues a credential: 201, the secret once, never cached', async () => {
    const { app, fake } = harness();
    const task = fake.seedTask();
    const res = await app.inject({
      method: 'POST',
      url: `/v1/tasks/${task.id}/credentials`,
      headers: bearer(),
      payload: { provider: 'crm-api', scopes: ['crm.read'], ttl_seconds: 60 },
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json();
    assert.equal(body.secret, 'the-secret-value');
    assert.deepEqual(Object.keys(body.credential).sort(), [
      'expires_at',
      'id',
      'issued_at',
      'provider',
      'revocability',
      'scopes',
      'status',
      'task_id',
    ]);
    assert.equal(body.credential.expires_at, '2025-01-01T00:01:00.000Z');
  });
});

describe('operator task listing', () => {
  it('lists tasks with filters for an operator', async () => {
    const { app, fake } = harness();
    fake.seedTask();
    fake.seedTask(OTHER_WORKLOAD);
    const res = await app.inject({
      method: 'GET',
      url: `/v1/tasks?workload=${encodeURIComponent(WORKLOAD.toString())}&status=active&limit=10`,
      headers: bearer(TOKENS.operator),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().tasks.length, 1);
    assert.equal(res.json().next_cursor, null);
  });

  it('refuses a workload that is not an operator with 403', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v1/tasks', headers: bearer() });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'BROKER_POLICY_DENIED');
  });

  it('refuses a malformed SPIFFE ID filter with its SPIFFE code', async () => {
    const { app } = harness();
    const res = await app.inject({
      method: 'GET',
      url: '/v1/tasks?workload=http://x/y',
      headers: bearer(TOKENS.operator),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'SPIFFE_ID_WRONG_SCHEME');
  });
});
