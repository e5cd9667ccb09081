import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IssuanceStore } from '../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';
import { FaultyExecutor } from './support/faulty-executor.js';
import { at, newTask, startTask, T0, workload } from './support/fixtures.js';

for (const backend of backends()) {
  describe(`issuance store tasks on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let faulty: FaultyExecutor;
    let store: IssuanceStore;
    before(async () => {
      db = await openMigrated(backend);
      faulty = new FaultyExecutor(db.executor);
      store = createSqlIssuanceStore(faulty);
    });
    after(() => db?.cleanup());

    const eventsOf = async (taskId: string) => (await store.queryEvents({ taskId })).items.map((e) => e.type);

    it('creates a task and its task.started event together', async () => {
      const input = newTask({ rule: 'agents' });
      const task = await store.createTask(input);
      assert.equal(task.status, 'active');
      assert.ok(task.workload.equals(input.workload));
      assert.deepEqual(task.manifest, input.manifest);
      assert.equal(task.deadline.getTime(), input.deadline.getTime());
      const [event] = (await store.queryEvents({ taskId: task.id })).items;
      assert.equal(event?.type, 'task.started');
      assert.equal(event?.rule, 'agents');
      assert.ok(event?.workload?.equals(input.workload));
      assert.deepEqual(await store.getTask(task.id), task);
    });

    it('returns undefined for an unknown or malformed task id', async () => {
      assert.equal(await store.getTask(randomUUID()), undefined);
      assert.equal(await store.getTask('not-a-uuid'), undefined);
    });

    it('refuses a duplicate task id and records no second event', async () => {
      const input = newTask();
      await store.createTask(input);
      await assert.rejects(store.createTask(input), { code: 'BROKER_STORE_CONFLICT' });
      assert.deepEqual(await eventsOf(input.id), ['task.started']);
    });

    it('rolls the task back when its event cannot be written', async () => {
      const input = newTask();
      faulty.failNextWith(/INSERT INTO ledger_events/, new Error('disk full'));
      await assert.rejects(store.createTask(input), { code: 'BROKER_STORE_QUERY_FAILED' });
      assert.equal(await store.getTask(input.id), undefined);
      assert.deepEqual(await eventsOf(input.id), []);
    });

    it('enforces the active-tasks quota, not counting ended or overdue tasks', async () => {
      const w = workload();
      const first = await startTask(store, { workload: w, maxActiveTasks: 2 });
      await startTask(store, { workload: w, maxActiveTasks: 2, deadline: at(5) });
      await assert.rejects(startTask(store, { workload: w, maxActiveTasks: 2 }), {
        code: 'BROKER_POLICY_QUOTA_EXCEEDED',
      });
      assert.equal(await store.countActiveTasks(w, T0), 2);
      assert.equal(await store.countActiveTasks(w, at(10)), 1, 'the overdue task no longer counts');
      await store.endTask({ id: first, status: 'completed', reason: 'done', now: at(1) });
      await startTask(store, { workload: w, maxActiveTasks: 2 });
    });

    it('enforces the quota under concurrent starts', async () => {
      const w = workload();
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => startTask(store, { workload: w, maxActiveTasks: 3 })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      assert.equal(await store.countActiveTasks(w, T0), 3);
    });

    it('links a delegated task to an active parent only', async () => {
      const parent = await startTask(store);
      const child = await store.createTask(newTask({ parent: parent }));
      assert.equal(child.parent, parent);
      await assert.rejects(startTask(store, { parent: randomUUID() }), {
        code: 'BROKER_TASK_NOT_FOUND',
      });
      await store.endTask({ id: parent, status: 'failed', reason: 'tool error', now: at(1) });
      await assert.rejects(startTask(store, { parent: parent }), {
        code: 'BROKER_TASK_ALREADY_ENDED',
      });
    });

    const endings = ['completed', 'failed', 'revoked'] as const;
    for (const status of endings) {
      it(`ends a task as ${status} with its task.${status} event`, async () => {
        const id = await startTask(store);
        const ended = await store.endTask({ id, status, reason: 'because', now: at(60) });
        assert.equal(ended.task.status, status);
        assert.equal(ended.task.endedAt?.getTime(), at(60).getTime());
        assert.equal(ended.task.endReason, 'because');
        assert.deepEqual(ended.activeCredentials, []);
        assert.deepEqual(await eventsOf(id), ['task.started', `task.${status}`]);
      });
    }

    it('refuses to end a task twice, or one that is unknown or owned by another workload', async () => {
      const w = workload();
      const id = await startTask(store, { workload: w });
      await assert.rejects(
        store.endTask({ id, status: 'completed', reason: 'x', now: at(1), workload: workload() }),
        {
          code: 'BROKER_TASK_NOT_FOUND',
        },
      );
      await store.endTask({ id, status: 'completed', reason: 'x', now: at(1), workload: w });
      await assert.rejects(store.endTask({ id, status: 'failed', reason: 'x', now: at(2) }), {
        code: 'BROKER_TASK_ALREADY_ENDED',
      });
      for (const bad of [randomUUID(), 'nope']) {
        await assert.rejects(store.endTask({ id: bad, status: 'failed', reason: 'x', now: at(2) }), {
          code: 'BROKER_TASK_NOT_FOUND',
        });
      }
      assert.deepEqual(await eventsOf(id), ['task.started', 'task.completed']);
    });

    it('keeps the task active when the end event cannot be written', async () => {
      const id = await startTask(store);
      faulty.failNextWith(/INSERT INTO ledger_events/, new Error('disk full'));
      await assert.rejects(store.endTask({ id, status: 'completed', reason: 'x', now: at(1) }), {
        code: 'BROKER_STORE_QUERY_FAILED',
      });
      assert.equal((await store.getTask(id))?.status, 'active');
      assert.deepEqual(await eventsOf(id), ['task.started']);
    });

    it('lists tasks newest first with a keyset cursor and filters', async () => {
      const w = workload();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await startTask(store, { workload: w, now: at(i) }));
      await store.endTask({ id: ids[0]!, status: 'completed', reason: 'x', now: at(10) });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listTasks({ workload: w, limit: 2, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, [...ids].reverse());
      const active = await store.listTasks({ workload: w, status: 'active' });
      assert.equal(active.items.length, 4);
      await assert.rejects(store.listTasks({ cursor: 'garbage' }), { code: 'BROKER_LEDGER_BAD_CURSOR' });
    });
  });
}
