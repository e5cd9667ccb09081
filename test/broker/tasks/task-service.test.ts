import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../../broker/errors.js';
import { codeOf, createHarness, OPERATOR_PATH, START, type Harness } from '../issuance/support/harness.js';

describe('createTaskService', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('caps the deadline at the policy maximum but not at the caller SVID', async () => {
    const caller = await h.caller('/agents/deadline', 60);
    const task = await h.tasks.start(caller, { ...START, ttlSeconds: 7200 });
    assert.equal(task.deadline.getTime() - h.clock.now().getTime(), 1800_000);
    const [event] = await h.events('task.started', task.id);
    assert.equal(event?.rule, 'agents');
  });

  it('reports an overdue task as expired and refuses to complete it', async () => {
    const caller = await h.caller('/agents/overdue');
    const task = await h.tasks.start(caller, { ...START, ttlSeconds: 60 });
    h.clock.advance(60_000);
    assert.equal((await h.tasks.get(caller, task.id)).status, 'expired');
    assert.equal(await codeOf(h.tasks.complete(caller, task.id)), 'BROKER_TASK_ALREADY_ENDED');
    assert.equal((await h.events('task.completed', task.id)).length, 0);
  });

  it('refuses to end a task twice', async () => {
    const caller = await h.caller('/agents/twice');
    const task = await h.tasks.start(caller, START);
    await h.tasks.complete(caller, task.id);
    assert.equal(await codeOf(h.tasks.fail(caller, task.id)), 'BROKER_TASK_ALREADY_ENDED');
  });

  it('lets operators list tasks and refuses workloads', async () => {
    const worker = await h.caller('/agents/lister');
    const task = await h.tasks.start(worker, START);
    assert.equal(await codeOf(h.tasks.list(worker, {})), 'BROKER_POLICY_DENIED');
    const operator = await h.caller(OPERATOR_PATH);
    const page = await h.tasks.list(operator, { workload: worker.id });
    assert.deepEqual(
      page.items.map((t) => t.id),
      [task.id],
    );
  });

  it('keeps a credential queued (pending) when its backend cannot revoke it, and revokes it on retry', async () => {
    const caller = await h.caller('/agents/revoke-fails');
    const task = await h.tasks.start(caller, START);
    const issued = await h.issuance.issue(caller, { taskId: task.id, provider: 'fake-api' });
    h.fake.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'revoke');
    const ended = await h.tasks.complete(caller, task.id);
    assert.deepEqual(ended.credentials.pending, [issued.credentialId]);
    assert.deepEqual(ended.credentials.revoked, []);
    // One failure is not the end: no revoke_failed before the retry budget is spent.
    assert.equal((await h.events('credential.revoke_failed', task.id)).length, 0);
    h.clock.advance(1000);
    assert.equal(await h.revocation.worker.runOnce(), 1);
    const [event] = await h.events('credential.revoked', task.id);
    assert.equal(event?.credentialId, issued.credentialId);
  });
});
