// Credential expiry without per-row timers (ISSUE 4, "Automatic") on PGlite and on the real
// PostgreSQL server: only what has expired is touched, one ledger event per batch, queued
// revocations of expired credentials are closed, and replicas sweeping together never overlap.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlRevocationStore } from '../../../broker/store/sql-revocation-store.js';
import { BrokerError } from '../../../broker/errors.js';
import { backends } from '../store/support/backends.js';
import {
  createRevocationHarness,
  TEST_SETTINGS,
  type RevocationHarness,
} from './support/revocation-harness.js';

for (const backend of backends()) {
  describe(`credential expiry on ${backend.name}`, { skip: backend.skip }, () => {
    let h: RevocationHarness;
    before(async () => {
      h = await createRevocationHarness(backend);
    });
    after(() => h.close());

    const statusOf = async (taskId: string) =>
      new Map((await h.revocationStore.listCredentials({ taskId })).items.map((c) => [c.id, c]));

    it('expires only what has expired, in batches of one event each', async () => {
      const w = h.caller('/agents/expiring');
      const short = await h.taskWith(w, ['rec-api', 'rec-api', 'eo-api', 'rec-api', 'crm-api']);
      h.clock.advance(5 * 60_000);
      assert.equal(await h.engine.expiry.sweepOnce(), 0, 'nothing has expired yet');
      assert.ok([...(await statusOf(short.taskId)).values()].every((c) => c.status === 'active'));

      h.clock.advance(5 * 60_000); // every credential lives at most 10 minutes (the policy cap)
      const events = (await h.events('credential.expired')).length;
      const swept = await h.engine.expiry.sweepOnce();
      assert.equal(swept, short.credentials.length);
      const after = await statusOf(short.taskId);
      assert.ok([...after.values()].every((c) => c.status === 'expired'));
      const batches = Math.ceil(swept / TEST_SETTINGS.expiryBatchSize);
      const newEvents = (await h.events('credential.expired')).slice(events);
      assert.equal(newEvents.length, batches, 'one event per batch, not per credential');
      const listed = newEvents.flatMap((e) => e.details['credential_ids'] as string[]);
      assert.equal(listed.length, swept);
      assert.equal(await h.engine.expiry.sweepOnce(), 0, 'nothing left: a sweep touches only what expires');
      assert.equal((await h.events('credential.expired')).length, events + batches);
    });

    it('closes the queued revocation of a credential that expired while its backend was failing', async () => {
      const w = h.caller('/agents/expired-while-failing');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      for (let i = 0; i < 10; i++)
        h.rec.fake.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'revoke');
      await h.tasks.complete(w, taskId);
      for (let i = 0; i < TEST_SETTINGS.maxAttempts; i++) {
        h.clock.advance(TEST_SETTINGS.maxBackoffMs);
        await h.engine.worker.runOnce();
      }
      assert.equal((await statusOf(taskId)).get(credentials[0]!)?.status, 'revoke_failed');
      const failedBefore = (await h.engine.metrics()).queueFailed;
      h.clock.advance(10 * 60_000);
      assert.equal(await h.engine.expiry.sweepOnce(), 1);
      const c = (await statusOf(taskId)).get(credentials[0]!);
      assert.equal(c?.status, 'expired');
      assert.deepEqual(c?.revocation && [c.revocation.state, c.revocation.outcome], ['done', 'expired']);
      assert.equal((await h.engine.metrics()).queueFailed, failedBefore - 1);
      const [event] = (await h.events('credential.expired')).slice(-1);
      assert.deepEqual(event?.details['revocations_closed'], [credentials[0]]);
      assert.equal(await h.engine.worker.runOnce(), 0, 'nothing left to retry');
    });

    it('two replicas sweeping together never expire a credential twice', async () => {
      const other = h.db.replica ? createSqlRevocationStore(h.db.replica()) : h.revocationStore;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(...(await h.taskWith(h.caller(`/agents/sweep-${i}`), ['rec-api', 'rec-api'])).credentials);
      h.clock.advance(11 * 60_000);
      const sweep = async (store: typeof other) => {
        const got: string[] = [];
        for (;;) {
          const batch = await store.expireDueCredentials({ now: h.clock.now(), limit: 2 });
          got.push(...batch);
          if (batch.length < 2) return got;
        }
      };
      const [a, b] = await Promise.all([sweep(h.revocationStore), sweep(other)]);
      assert.deepEqual([...a, ...b].sort(), [...ids].sort());
      assert.equal(new Set([...a, ...b]).size, ids.length);
    });
  });
}
