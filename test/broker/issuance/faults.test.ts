import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../../broker/errors.js';
import { codeOf, connectionRefused, createHarness, START, type Harness } from './support/harness.js';

describe('issuance faults: nothing is released unless durably recorded (invariant 1)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('records nothing as issued when the adapter fails, and writes a denial event', async () => {
    const caller = await h.caller('/agents/adapter-down');
    const task = await h.tasks.start(caller, START);
    h.fake.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'issue');
    const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'fake-api' }));
    assert.equal(code, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
    assert.equal(await h.store.countCredentials(task.id), 0);
    assert.equal((await h.events('credential.issued', task.id)).length, 0);
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.details['why'], 'provider_failed');
  });

  it('fails closed with BROKER_STORE_UNAVAILABLE when the commit fails, and revokes what was minted', async () => {
    const caller = await h.caller('/agents/store-down');
    const task = await h.tasks.start(caller, START);
    h.executor.failNextWith(/INSERT INTO credentials/, connectionRefused());
    const result = await h.issuance.issue(caller, { taskId: task.id, provider: 'fake-api' }).then(
      (issued) => ({ issued }),
      (err: unknown) => ({ err }),
    );
    assert.ok('err' in result, 'no secret may be returned');
    assert.ok(result.err instanceof BrokerError);
    assert.equal(result.err.code, 'BROKER_STORE_UNAVAILABLE');
    assert.equal(await h.store.countCredentials(task.id), 0);
    assert.equal((await h.events('credential.issued', task.id)).length, 0);
    const minted = h.fake.records().filter((r) => r.taskId === task.id);
    assert.equal(minted.length, 1);
    assert.equal(minted[0]?.revoked, true);
  });

  it('fails closed before minting when the task cannot be read', async () => {
    const caller = await h.caller('/agents/store-down-early');
    const task = await h.tasks.start(caller, START);
    const before = h.fake.records().length;
    h.executor.failNextWith(/FROM tasks WHERE id/, connectionRefused());
    const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'fake-api' }));
    assert.equal(code, 'BROKER_STORE_UNAVAILABLE');
    assert.equal(h.fake.records().length, before);
  });

  it('refuses to start a task with the store down and records nothing', async () => {
    const caller = await h.caller('/agents/store-down-start');
    h.executor.failNextWith(/INSERT INTO tasks/, connectionRefused());
    assert.equal(await codeOf(h.tasks.start(caller, START)), 'BROKER_STORE_UNAVAILABLE');
    assert.equal((await h.store.listTasks({ workload: caller.id })).items.length, 0);
    assert.equal((await h.events('task.started')).filter((e) => e.workload?.equals(caller.id)).length, 0);
  });
});
