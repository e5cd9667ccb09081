import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, START, type Harness } from './support/harness.js';

describe('issuance happy path', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('starts a task, issues a jwt task token, introspects it active, completes, introspects it inactive', async () => {
    const caller = await h.caller();
    const task = await h.tasks.start(caller, START);
    assert.equal(task.status, 'active');
    assert.equal(task.deadline.getTime() - h.clock.now().getTime(), 30 * 60_000);

    const issued = await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    assert.deepEqual(issued.scopes, ['crm:read']);
    assert.equal(issued.ttlSeconds, 300);
    assert.deepEqual(issued.boundBy, ['policy']);
    const [event] = await h.events('credential.issued', task.id);
    assert.equal(event?.credentialId, issued.credentialId);
    assert.equal(event?.rule, 'agents');
    assert.equal(event?.decision, 'allow');

    h.clock.advance(10_000);
    const active = await h.introspector.introspect(issued.secret);
    assert.equal(active.active, true);
    if (!active.active) return;
    assert.equal(active.task_id, task.id);
    assert.equal(active.sub, caller.id.toString());
    assert.equal(active.scope, 'crm:read');
    assert.equal(active.aud, 'crm-api');
    assert.equal(active.token_type, 'Bearer');

    const ended = await h.tasks.complete(caller, task.id);
    assert.equal(ended.task.status, 'completed');
    assert.deepEqual(ended.credentials.revoked, [issued.credentialId]);
    assert.deepEqual(await h.introspector.introspect(issued.secret), { active: false });
    assert.equal((await h.events('task.completed', task.id)).length, 1);
    const [revoked] = await h.events('credential.revoked', task.id);
    assert.equal(revoked?.credentialId, issued.credentialId);
  });

  it('revokes fake-backend credentials at the backend when the task fails', async () => {
    const caller = await h.caller('/agents/a2');
    const task = await h.tasks.start(caller, START);
    const issued = await h.issuance.issue(caller, { taskId: task.id, provider: 'fake-api' });
    assert.equal(h.fake.accepts(issued.secret, h.clock.now()), true);
    const ended = await h.tasks.fail(caller, task.id, 'tool crashed');
    assert.equal(ended.task.status, 'failed');
    assert.equal(h.fake.accepts(issued.secret, h.clock.now()), false);
    const [failed] = await h.events('task.failed', task.id);
    assert.equal(failed?.reason, 'tool crashed');
    assert.equal((await h.events('credential.revoked', task.id)).length, 1);
  });
});
