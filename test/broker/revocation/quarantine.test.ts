// Quarantine (ISSUE 4) on PGlite and on the real PostgreSQL server: the workload's tasks are revoked,
// it gets no new task and no credential until lifted (BROKER_WORKLOAD_QUARANTINED, with the denial in
// the ledger), and a task start racing a quarantine never leaves an active task behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomIds } from '../../../broker/issuance/id-source.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { BrokerError } from '../../../broker/errors.js';
import { backends } from '../store/support/backends.js';
import { codeOf, createRevocationHarness, type RevocationHarness } from './support/revocation-harness.js';

for (const backend of backends()) {
  describe(`quarantine on ${backend.name}`, { skip: backend.skip }, () => {
    let h: RevocationHarness;
    before(async () => {
      h = await createRevocationHarness(backend);
    });
    after(() => h.close());

    it('revokes the workload’s tasks and blocks task start and credential issue until lifted', async () => {
      const w = h.caller('/agents/suspect');
      const bystander = h.caller('/agents/bystander');
      const t1 = await h.taskWith(w, ['rec-api']);
      const t2 = await h.taskWith(w, []);
      const other = await h.taskWith(bystander, ['rec-api']);

      const q = await h.engine.service.quarantine(h.operator, { workload: w.id, reason: 'prompt injection' });
      assert.equal(q.workload.toString(), w.id.toString());
      assert.equal(q.by, h.operator.id.toString());
      assert.deepEqual([...q.revocation.tasks].sort(), [t1.taskId, t2.taskId].sort());
      assert.equal(q.revocation.counts.revoked, 1);
      assert.equal((await h.store.getTask(other.taskId))?.status, 'active');
      const [quarantined] = await h.events('workload.quarantined', { workload: w.id });
      assert.equal(quarantined?.reason, 'prompt injection');
      assert.equal(quarantined?.details['revocation_id'], q.revocation.revocationId);
      const revoked = await h.events('task.revoked', { taskId: t1.taskId });
      assert.equal(revoked[0]?.details['revocation_id'], q.revocation.revocationId);

      // No new task: refused with the code, and the denial is in the ledger.
      const start = h.tasks.start(w, { intent: { name: 'work' }, manifest: [] });
      assert.equal(await codeOf(start), 'BROKER_WORKLOAD_QUARANTINED');
      const [denied] = (await h.events('task.denied', { workload: w.id })).slice(-1);
      assert.equal(denied?.details['code'], 'BROKER_WORKLOAD_QUARANTINED');
      // No credential either (its task is revoked, and the refusal says why).
      const issue = h.issuance.issue(w, { taskId: t1.taskId, provider: 'rec-api' });
      assert.equal(await codeOf(issue), 'BROKER_WORKLOAD_QUARANTINED');
      const [credDenied] = (await h.events('credential.denied', { workload: w.id })).slice(-1);
      assert.equal(credDenied?.details['code'], 'BROKER_WORKLOAD_QUARANTINED');
      // Others are unaffected.
      assert.equal(
        (await h.issuance.issue(bystander, { taskId: other.taskId, provider: 'rec-api' })).provider,
        'rec-api',
      );

      const listed = await h.engine.service.quarantines(h.operator);
      assert.deepEqual(
        listed.map((x) => [x.workload.toString(), x.reason]),
        [[w.id.toString(), 'prompt injection']],
      );

      await h.engine.service.lift(h.operator, { workload: w.id, reason: 'false positive' });
      const [lifted] = await h.events('workload.quarantine_lifted', { workload: w.id });
      assert.equal(lifted?.reason, 'false positive');
      assert.equal(lifted?.details['by'], h.operator.id.toString());
      assert.deepEqual(await h.engine.service.quarantines(h.operator), []);
      assert.equal((await h.tasks.start(w, { intent: { name: 'work' }, manifest: [] })).status, 'active');
      assert.equal(
        await codeOf(h.engine.service.lift(h.operator, { workload: w.id, reason: 'again' })),
        'BROKER_QUARANTINE_NOT_FOUND',
      );
    });

    it('quarantining twice keeps the first quarantine and writes one event', async () => {
      const w = h.caller('/agents/twice');
      await h.engine.service.quarantine(h.operator, { workload: w.id, reason: 'first' });
      const again = await h.engine.service.quarantine(h.operator, { workload: w.id, reason: 'second' });
      assert.equal(again.reason, 'first');
      assert.equal((await h.events('workload.quarantined', { workload: w.id })).length, 1);
      await h.engine.service.lift(h.operator, { workload: w.id, reason: 'done' });
    });

    it('records a quarantine made for an anomaly signal as by signal:<id>', async () => {
      const w = h.caller('/agents/signalled');
      const q = await h.engine.service.quarantineFor('signal:99', { workload: w.id, reason: 'replay' });
      assert.equal(q.by, 'signal:99');
      const [event] = await h.events('workload.quarantined', { workload: w.id });
      assert.equal(event?.details['by'], 'signal:99');
    });

    it('never leaves an active task when task starts race a quarantine (another replica starting)', async () => {
      const w = h.caller('/agents/racer');
      const otherStore = createSqlIssuanceStore(h.db.replica ? h.db.replica() : h.db.executor);
      const start = (i: number) =>
        (i % 2 === 0 ? h.store : otherStore)
          .createTask({
            id: randomIds.newId(),
            workload: w.id,
            intent: { name: 'work', text: '' },
            manifest: [],
            deadline: new Date(h.clock.now().getTime() + 3_600_000),
            now: h.clock.now(),
          })
          .then(
            () => 'started',
            (err: unknown) => (err instanceof BrokerError ? err.code : 'other'),
          );
      const racing = Array.from({ length: 30 }, (_, i) => start(i));
      const q = h.engine.service.quarantine(h.operator, { workload: w.id, reason: 'race' });
      const outcomes = await Promise.all([...racing, ...Array.from({ length: 10 }, (_, i) => start(i))]);
      const quarantine = await q;
      assert.ok(
        outcomes.every((o) => o === 'started' || o === 'BROKER_WORKLOAD_QUARANTINED'),
        outcomes.join(),
      );
      const page = await h.store.listTasks({ workload: w.id, status: 'active', limit: 1000 });
      assert.deepEqual(page.items, [], 'every task that started was revoked by the quarantine');
      const started = outcomes.filter((o) => o === 'started').length;
      assert.equal(quarantine.revocation.tasks.length, started);
    });
  });
}
