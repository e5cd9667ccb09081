import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret as hashOf } from '../../../adapters/credential-adapter.js';
import { createHarness, START, type Harness } from '../issuance/support/harness.js';

describe('createExpirySweeper', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('expires a task past its deadline, revokes its token, and introspection turns inactive', async () => {
    const caller = await h.caller('/agents/sweep');
    const task = await h.tasks.start(caller, { ...START, ttlSeconds: 60 });
    const issued = await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    assert.equal((await h.introspector.introspect(issued.secret)).active, true);
    h.clock.advance(60_000);
    // Inactive at the deadline already, before the sweeper has run.
    assert.deepEqual(await h.introspector.introspect(issued.secret), { active: false });
    assert.equal(await h.sweeper.sweepOnce(), 1);
    assert.equal((await h.store.getTask(task.id))?.status, 'expired');
    assert.equal((await h.events('task.expired', task.id)).length, 1);
    // The expiry queued the revocation in its transaction; the worker (woken by the sweep) does it.
    await h.revocation.worker.runOnce();
    await h.revocation.worker.idle();
    const [revoked] = await h.events('credential.revoked', task.id);
    assert.equal(revoked?.credentialId, issued.credentialId);
    assert.equal((await h.store.findCredentialBySecretHash(hashOf(issued.secret)))?.status, 'revoked');
    assert.equal(await h.sweeper.sweepOnce(), 0);
  });

  it('sweeps on its timer and stops cleanly', async () => {
    const caller = await h.caller('/agents/timer');
    const task = await h.tasks.start(caller, { ...START, ttlSeconds: 5 });
    h.clock.advance(6_000);
    h.sweeper.start();
    assert.equal((await h.store.getTask(task.id))?.status, 'active');
    // The fake clock fires the sweep synchronously; stop() waits for the sweep in flight.
    h.clock.advance(1_000);
    await h.sweeper.stop();
    assert.equal((await h.store.getTask(task.id))?.status, 'expired');
    assert.equal(h.clock.pendingTimers, 0);
  });
});
