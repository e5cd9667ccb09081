import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndedTask, IssuanceStore } from '../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';
import { at, newIssuance, startTask, workload } from './support/fixtures.js';

/** Sweeps until nothing is due, returning every task this sweeper expired. */
async function sweepAll(store: IssuanceStore, now: Date, limit: number): Promise<EndedTask[]> {
  const all: EndedTask[] = [];
  for (;;) {
    const batch = await store.expireDueTasks({ now, limit });
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

for (const backend of backends()) {
  describe(`expiry sweeps on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let store: IssuanceStore;
    before(async () => {
      db = await openMigrated(backend);
      store = createSqlIssuanceStore(db.executor);
    });
    after(() => db?.cleanup());

    it('expires only due active tasks, with their events and active credentials', async () => {
      const w = workload();
      const due = await startTask(store, { workload: w, deadline: at(100) });
      const later = await startTask(store, { workload: w, deadline: at(500) });
      const done = await startTask(store, { workload: w, deadline: at(100) });
      const cred = await store.recordIssuance(newIssuance(due));
      await store.endTask({ id: done, status: 'completed', reason: 'done', now: at(50) });

      const expired = await sweepAll(store, at(100), 10);
      const mine = expired.filter((e) => e.task.workload.equals(w));
      assert.deepEqual(
        mine.map((e) => e.task.id),
        [due],
      );
      assert.equal(mine[0]?.task.status, 'expired');
      assert.deepEqual(
        mine[0]?.activeCredentials.map((c) => c.id),
        [cred.id],
      );
      assert.equal((await store.getTask(later))?.status, 'active');
      const types = (await store.queryEvents({ taskId: due })).items.map((e) => e.type);
      assert.deepEqual(types, ['task.started', 'credential.issued', 'task.expired']);
      assert.deepEqual(await store.expireDueTasks({ now: at(100), limit: 10 }), []);
    });

    if (backend.name === 'postgres') {
      it('never double-processes a task when two replicas sweep at once', async () => {
        const w = workload();
        const ids = new Set<string>();
        for (let i = 0; i < 120; i++) ids.add(await startTask(store, { workload: w, deadline: at(200) }));
        const replicas = [
          store,
          createSqlIssuanceStore(db.replica!()),
          createSqlIssuanceStore(db.replica!()),
        ];
        const results = await Promise.all(replicas.map((r) => sweepAll(r, at(300), 7)));
        const processed = results.flat().map((e) => e.task.id);
        assert.equal(processed.length, ids.size, 'each due task processed exactly once');
        assert.deepEqual(new Set(processed), ids);
        assert.ok(results.filter((r) => r.length > 0).length >= 2, 'the work was shared');
        const events = await store.queryEvents({ workload: w, types: ['task.expired'], limit: 1000 });
        assert.equal(events.items.length, ids.size);
      });
    }
  });
}
