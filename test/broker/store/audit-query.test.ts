import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IssuanceStore, LedgerEvent } from '../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';
import { at, newIssuance, startTask, workload } from './support/fixtures.js';

for (const backend of backends()) {
  describe(`auditor queries on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let store: IssuanceStore;
    const w1 = workload();
    const w2 = workload();
    let task1: string;
    before(async () => {
      db = await openMigrated(backend);
      store = createSqlIssuanceStore(db.executor);
      task1 = await startTask(store, { workload: w1, now: at(0) });
      const task2 = await startTask(store, { workload: w2, now: at(1) });
      await store.recordIssuance(newIssuance(task1, undefined, { now: at(10) }));
      await store.recordIssuance(newIssuance(task1, undefined, { now: at(20), provider: 'reports-aws' }));
      await store.recordIssuance(newIssuance(task2, undefined, { now: at(30) }));
      await store.endTask({ id: task1, status: 'completed', reason: 'done', now: at(40) });
    });
    after(() => db?.cleanup());

    const summary = (events: readonly LedgerEvent[]) =>
      events.map((e) => `${e.type}@${e.occurredAt.getTime() / 1000 - 1735689600}`);

    const cases: {
      name: string;
      query: () => Parameters<IssuanceStore['queryEvents']>[0];
      want: string[];
    }[] = [
      {
        name: 'by workload',
        query: () => ({ workload: w1 }),
        want: ['task.started@0', 'credential.issued@10', 'credential.issued@20', 'task.completed@40'],
      },
      {
        name: 'by task and type',
        query: () => ({ taskId: task1, types: ['credential.issued'] }),
        want: ['credential.issued@10', 'credential.issued@20'],
      },
      {
        name: 'by provider',
        query: () => ({ workload: w1, provider: 'reports-aws' }),
        want: ['credential.issued@20'],
      },
      {
        name: 'by time range (from inclusive, to exclusive)',
        query: () => ({ workload: w1, from: at(10), to: at(40) }),
        want: ['credential.issued@10', 'credential.issued@20'],
      },
      {
        name: 'by several types',
        query: () => ({ workload: w2, types: ['task.started', 'task.expired'] }),
        want: ['task.started@1'],
      },
    ];
    for (const c of cases) {
      it(`filters ${c.name}`, async () => {
        assert.deepEqual(summary((await store.queryEvents(c.query())).items), c.want);
      });
    }

    it('pages with a keyset cursor in seq order without repeats', async () => {
      const seen: LedgerEvent[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<IssuanceStore['queryEvents']>> = await store.queryEvents({
          workload: w1,
          limit: 3,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      assert.equal(seen.length, 4);
      assert.deepEqual(
        seen.map((e) => e.seq),
        [...seen.map((e) => e.seq)].sort((a, b) => a - b),
      );
    });

    const badCursors = [
      '%%%',
      Buffer.from('["t","x","y"]').toString('base64url'),
      Buffer.from('["e","1"]').toString('base64url'),
    ];
    for (const cursor of badCursors) {
      it(`rejects the malformed cursor ${JSON.stringify(cursor)}`, async () => {
        await assert.rejects(store.queryEvents({ cursor }), { code: 'BROKER_LEDGER_BAD_CURSOR' });
      });
    }

    it('rejects a limit below one', async () => {
      await assert.rejects(store.queryEvents({ limit: 0 }), { code: 'BROKER_INPUT_INVALID' });
    });
  });
}
