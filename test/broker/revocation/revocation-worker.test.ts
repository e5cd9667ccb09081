// The durable revocation queue (ISSUE 4, "Never lost") on PGlite and on the real PostgreSQL server:
// same-transaction enqueue, backoff and retry budget under the fake clock, revoke_failed and the
// operator retry, leases after a crash, and replicas that never do the same work twice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../../broker/errors.js';
import { retryPlan } from '../../../broker/revocation/backoff.js';
import type { CredentialListing } from '../../../broker/store/revocation-store.js';
import { backends } from '../store/support/backends.js';
import {
  createRevocationHarness,
  TEST_SETTINGS,
  type RevocationHarness,
} from './support/revocation-harness.js';

const down = () => new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', 'backend down');

/** The credential's listing (status and queue row). */
async function listing(h: RevocationHarness, taskId: string, id: string): Promise<CredentialListing> {
  const page = await h.revocationStore.listCredentials({ taskId });
  const found = page.items.find((c) => c.id === id);
  assert.ok(found, `credential ${id} listed`);
  return found;
}

/** The delay the worker schedules after failure `attempt` (the harness draws 0.5). */
const delay = (attempt: number) => retryPlan(attempt, TEST_SETTINGS, () => 0.5).delayMs;

for (const backend of backends()) {
  describe(`revocation worker on ${backend.name}`, { skip: backend.skip }, () => {
    let h: RevocationHarness;
    before(async () => {
      h = await createRevocationHarness(backend);
    });
    after(() => h.close());

    it('queues a task ending’s revocations in the ending’s transaction (both or neither)', async () => {
      const w = h.caller('/agents/same-tx');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api', 'eo-api']);
      h.executor.failNextWith(/INSERT INTO revocation_queue/, new Error('injected'));
      await assert.rejects(
        h.store.endTask({ id: taskId, status: 'completed', reason: 'done', now: h.clock.now() }),
      );
      assert.equal(
        (await h.store.getTask(taskId))?.status,
        'active',
        'the ending rolled back with the enqueue',
      );
      assert.equal((await h.events('task.completed', { taskId })).length, 0);

      await h.store.endTask({ id: taskId, status: 'completed', reason: 'done', now: h.clock.now() });
      const rec = await listing(h, taskId, credentials[0]!);
      assert.deepEqual(rec.revocation && { state: rec.revocation.state, attempts: rec.revocation.attempts }, {
        state: 'pending',
        attempts: 0,
      });
      assert.equal(
        (await listing(h, taskId, credentials[1]!)).revocation,
        null,
        'expires-only is not queued',
      );
      const [ended] = await h.events('task.completed', { taskId });
      assert.equal(ended?.details['queued'], 1);
      assert.deepEqual(ended?.details['not_revocable'], [
        {
          credential_id: credentials[1],
          provider: 'eo-api',
          exposed_until: (await listing(h, taskId, credentials[1]!)).expiresAt.toISOString(),
        },
      ]);
      assert.equal(await h.engine.worker.runOnce(), 1);
      assert.equal((await listing(h, taskId, credentials[0]!)).status, 'revoked');
    });

    it('verifies every backend revocation and records when it was confirmed (or that it was not)', async () => {
      const w = h.caller('/agents/verified');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api', 'rec-api']);
      h.rec.fake.failNextWith(down(), 'verifyRevoked');
      await h.store.endTask({ id: taskId, status: 'completed', reason: 'done', now: h.clock.now() });
      assert.equal(await h.engine.worker.runOnce(), 2);
      const checks = await h.events('credential.revocation_verified', { taskId });
      assert.equal(checks.length, 2, 'one check per revoked credential');
      const byConfirmed = new Map(checks.map((e) => [e.details['confirmed'], e]));
      const confirmed = byConfirmed.get(true);
      const unconfirmed = byConfirmed.get(false);
      assert.ok(confirmed && unconfirmed, 'one confirmed, one whose check failed');
      assert.equal(unconfirmed.details['detail'], 'check failed: BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      for (const id of credentials) assert.equal((await listing(h, taskId, id)).status, 'revoked');
      const rows = await h.executor.query<{ id: string; revocation_confirmed_at: Date | null }>(
        'SELECT id, revocation_confirmed_at FROM credentials WHERE task_id = $1',
        [taskId],
      );
      const confirmedAt = new Map(rows.rows.map((r) => [r.id, r.revocation_confirmed_at]));
      assert.ok(confirmedAt.get(confirmed.credentialId!) instanceof Date);
      assert.equal(confirmedAt.get(unconfirmed.credentialId!), null);
    });

    it('retries a failing backend with exponential backoff until it succeeds', async () => {
      const w = h.caller('/agents/flaky');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      const id = credentials[0]!;
      h.rec.fake.failNextWith(down(), 'revoke');
      h.rec.fake.failNextWith(down(), 'revoke');
      const t0 = h.clock.now().getTime();
      const ended = await h.tasks.complete(w, taskId);
      assert.deepEqual(ended.credentials.pending, [id]);
      let row = (await listing(h, taskId, id)).revocation;
      assert.equal(row?.attempts, 1);
      assert.equal(row?.lastError, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      assert.equal(row?.nextAttemptAt?.getTime(), t0 + delay(1));

      h.clock.advance(delay(1) - 1);
      assert.equal(await h.engine.worker.runOnce(), 0, 'not due before its backoff');
      h.clock.advance(1);
      assert.equal(await h.engine.worker.runOnce(), 1);
      row = (await listing(h, taskId, id)).revocation;
      assert.equal(row?.attempts, 2);
      assert.equal(row?.nextAttemptAt?.getTime(), t0 + delay(1) + delay(2), 'the delay doubled');

      h.clock.advance(delay(2));
      assert.equal(await h.engine.worker.runOnce(), 1);
      const done = await listing(h, taskId, id);
      assert.equal(done.status, 'revoked');
      assert.deepEqual(done.revocation && [done.revocation.state, done.revocation.outcome], [
        'done',
        'revoked',
      ]);
      const events = await h.events('credential.revoked', { credentialId: id });
      assert.equal(events.length, 1);
      assert.equal(events[0]?.details['attempts'], 3);
      assert.equal(events[0]?.reason, 'task completed');
      assert.equal((await h.events('credential.revoke_failed', { credentialId: id })).length, 0);
    });

    it('marks revoke_failed after the retry budget, keeps it queued, and retries on operator request', async () => {
      const w = h.caller('/agents/dead-backend');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      const id = credentials[0]!;
      for (let i = 0; i < TEST_SETTINGS.maxAttempts + 1; i++) h.rec.fake.failNextWith(down(), 'revoke');
      const before = h.engine.worker.attempts();
      await h.tasks.complete(w, taskId);
      h.clock.advance(delay(1));
      await h.engine.worker.runOnce();
      assert.equal((await listing(h, taskId, id)).status, 'active', 'not failed before the budget is spent');
      h.clock.advance(delay(2));
      await h.engine.worker.runOnce();

      const failed = await listing(h, taskId, id);
      assert.equal(failed.status, 'revoke_failed');
      assert.equal(failed.revocation?.state, 'failed');
      assert.equal(failed.revocation?.attempts, TEST_SETTINGS.maxAttempts);
      assert.equal(failed.revocation?.lastError, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      assert.equal(
        failed.revocation?.nextAttemptAt?.getTime(),
        h.clock.now().getTime() + retryPlan(TEST_SETTINGS.maxAttempts, TEST_SETTINGS, () => 0.5).delayMs,
        'still queued, on the long interval',
      );
      const [event] = await h.events('credential.revoke_failed', { credentialId: id });
      assert.equal(event?.details['last_error'], 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      assert.equal(event?.details['attempts'], TEST_SETTINGS.maxAttempts);
      const after = h.engine.worker.attempts();
      assert.equal(after.revoke_failed - before.revoke_failed, 1);
      assert.equal(after.retrying - before.retrying, TEST_SETTINGS.maxAttempts - 1);
      const metrics = await h.engine.metrics();
      assert.ok(metrics.revokeFailedCredentials >= 1 && metrics.queueFailed >= 1);
      const listed = await h.engine.service.credentials(h.operator, { status: 'revoke_failed' });
      assert.ok(listed.items.some((c) => c.id === id && c.revocation?.lastError !== null));

      // The operator retries: the next attempt fails again (still revoke_failed, no second event)...
      assert.deepEqual(await h.engine.service.retryFailed(h.operator, { credentialId: id }), { requeued: 1 });
      assert.equal((await listing(h, taskId, id)).status, 'revoke_failed');
      assert.equal((await h.events('credential.revoke_failed', { credentialId: id })).length, 1);
      // ...and once the backend is back, the next retry revokes it.
      assert.deepEqual(await h.engine.service.retryFailed(h.operator, {}), { requeued: 1 });
      assert.equal((await listing(h, taskId, id)).status, 'revoked');
      assert.equal((await h.events('credential.revoked', { credentialId: id })).length, 1);
      assert.equal((await h.engine.metrics()).revokeFailedCredentials, metrics.revokeFailedCredentials - 1);
    });

    it('takes over a claim whose worker died once its lease ends; the late completion changes nothing', async () => {
      const w = h.caller('/agents/crashed-worker');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      const id = credentials[0]!;
      await h.store.endTask({ id: taskId, status: 'failed', reason: 'x', now: h.clock.now() });
      // A worker claims the row and dies (kill -9): it never completes.
      const now = h.clock.now();
      const [dead] = await h.revocationStore.claimDue({
        now,
        leaseUntil: new Date(now.getTime() + TEST_SETTINGS.leaseMs),
        limit: 10,
        claimId: '00000000-0000-4000-8000-000000000001',
        credentialIds: [id],
      });
      assert.equal(dead?.credentialId, id);
      assert.equal(await h.engine.worker.runOnce(), 0, 'leased: no one else takes it');
      h.clock.advance(TEST_SETTINGS.leaseMs);
      assert.equal(await h.engine.worker.runOnce(), 1, 'the lease ended: another worker takes it');
      assert.equal((await listing(h, taskId, id)).status, 'revoked');
      const late = await h.revocationStore.completeRevoked({ ...dead!, now: h.clock.now() });
      assert.equal(late, false);
      assert.equal((await h.events('credential.revoked', { credentialId: id })).length, 1);
    });

    it('fails an attempt that outlives its timeout, and answers pending when the bounded wait ends', async (t) => {
      const w = h.caller('/agents/slow-backend');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      const id = credentials[0]!;
      const release = h.rec.hangRevokes();
      t.after(release);
      const calls = h.rec.revokeCalls().size;
      const ending = h.tasks.complete(w, taskId);
      // Once the backend call hangs, let the call's bounded wait (awaitMs) run out.
      await waitFor(() => h.rec.revokeCalls().size > calls);
      h.clock.advance(TEST_SETTINGS.awaitMs);
      const ended = await ending;
      assert.deepEqual(ended.credentials.pending, [id]);
      h.clock.advance(TEST_SETTINGS.attemptTimeoutMs - TEST_SETTINGS.awaitMs);
      await h.engine.worker.idle();
      const row = (await listing(h, taskId, id)).revocation;
      assert.equal(row?.lastError, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      assert.equal(row?.state, 'pending');
      release();
      h.clock.advance(delay(1));
      await h.engine.worker.runOnce();
      assert.equal((await listing(h, taskId, id)).status, 'revoked');
    });

    it('two workers (replicas) draining together never revoke a credential twice', async () => {
      const other = h.replicaEngine(h.db.replica ? h.db.replica() : h.db.executor);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const w = h.caller(`/agents/replica-${i}`);
        const { taskId, credentials } = await h.taskWith(w, ['rec-api', 'rec-api']);
        await h.store.endTask({ id: taskId, status: 'completed', reason: 'x', now: h.clock.now() });
        ids.push(...credentials);
      }
      const calls = new Map(h.rec.revokeCalls());
      const [a, b] = await Promise.all([h.engine.worker.runOnce(), other.worker.runOnce()]);
      assert.equal(a + b, ids.length, `each row processed once (${a} + ${b})`);
      const after = h.rec.revokeCalls();
      assert.equal(after.size - calls.size, ids.length, 'one backend call per credential');
      for (const [handle, n] of after) assert.equal(n - (calls.get(handle) ?? 0), calls.has(handle) ? 0 : 1);
      for (const id of ids) {
        assert.equal((await h.events('credential.revoked', { credentialId: id })).length, 1, id);
      }
    });
  });
}

/** Polls `check` (bounded by a count of polls, never asserting a time). */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check(), 'condition never held');
}
