import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LEDGER_EVENT_TYPES } from '../../../broker/api/http/routes/audit.js';
import { findCredentialByJti, isJtiRevoked } from '../../../broker/store/credential-by-jti.js';
import type { IssuanceStore, LedgerEventType } from '../../../broker/store/issuance-store.js';
import {
  readRevocationEvents,
  REVOCATION_CHANNEL,
  REVOCATION_EVENT_TYPES,
} from '../../../broker/store/revocation-events.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';
import { at, newIssuance, startTask, T0 } from './support/fixtures.js';

/** Collects notifications; `next(pred)` resolves with the first (past or future) payload matching. */
function collector() {
  const seen: string[] = [];
  const waiters: { pred: (p: string) => boolean; resolve: (p: string) => void }[] = [];
  return {
    seen,
    notify(payload: string) {
      seen.push(payload);
      for (const w of [...waiters]) {
        if (w.pred(payload)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(payload);
        }
      }
    },
    next(pred: (p: string) => boolean): Promise<string> {
      const hit = seen.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

for (const backend of backends()) {
  describe(`revocation events on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let store: IssuanceStore;
    before(async () => {
      db = await openMigrated(backend);
      store = createSqlIssuanceStore(db.executor);
    });
    after(() => db?.cleanup());

    const append = async (type: LedgerEventType, extra: { taskId?: string; credentialId?: string } = {}) =>
      String((await store.appendEvents([{ type, occurredAt: at(20), ...extra }]))[0]!.seq);

    it('reads in numeric seq order, across a change in the number of digits', async () => {
      // A fresh schema starts at seq 1, so twelve events (each drawing two seqs) cross 9 -> 10.
      const seqs: string[] = [];
      for (let i = 0; i < 12; i++) seqs.push(await append('task.revoked'));
      const read = await readRevocationEvents(db.executor, { after: '0', limit: 100 });
      assert.deepEqual(
        read.events.map((e) => e.seq),
        seqs,
      );
    });

    it('notifies every committed revocation event with its seq, on commit', async () => {
      const c = collector();
      const stop = await db.executor.listen(REVOCATION_CHANNEL, c);
      try {
        for (const type of REVOCATION_EVENT_TYPES) {
          const seq = await append(type);
          assert.equal(await c.next((p) => p === seq), seq);
        }
      } finally {
        await stop();
      }
    });

    it('reads revocation events in seq order with the jti of the credential, within a range', async () => {
      const taskId = await startTask(store);
      const jti = randomUUID();
      const cred = await store.recordIssuance(newIssuance(taskId, undefined, { revocationHandle: { jti } }));
      const start = (await store.queryEvents({ taskId })).items.at(-1)!.seq;
      await store.markCredentials({ ids: [cred.id], outcome: 'revoked', reason: 'test', now: at(30) });
      await store.endTask({ id: taskId, status: 'completed', reason: 'done', now: at(40) });
      const all = await readRevocationEvents(db.executor, { after: String(start), limit: 100 });
      const mine = all.events.filter((e) => e.taskId === taskId);
      assert.deepEqual(
        mine.map((e) => [e.type, e.jti]),
        [
          ['credential.revoked', jti],
          ['task.completed', null],
        ],
      );
      assert.equal(mine[0]!.credentialId, cred.id);
      const seqs = all.events.map((e) => BigInt(e.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => (a < b ? -1 : 1)),
      );
      const upTo = await readRevocationEvents(db.executor, {
        after: String(start),
        upTo: mine[0]!.seq,
        limit: 100,
      });
      assert.deepEqual(upTo.events.at(-1)?.seq, mine[0]!.seq);
      const since = await readRevocationEvents(db.executor, {
        after: String(start),
        since: at(35),
        limit: 100,
      });
      assert.deepEqual(
        since.events.filter((e) => e.taskId === taskId).map((e) => e.type),
        ['task.completed'],
      );
      assert.equal(
        (await readRevocationEvents(db.executor, { after: mine[1]!.seq, limit: 100 })).events.length,
        0,
      );
    });

    it('finds a credential by jti and says whether the broker record revokes it', async () => {
      const taskA = await startTask(store);
      const [jti1, jti2] = [randomUUID(), randomUUID()];
      const c1 = await store.recordIssuance(
        newIssuance(taskA, undefined, { revocationHandle: { jti: jti1 } }),
      );
      await store.recordIssuance(newIssuance(taskA, undefined, { revocationHandle: { jti: jti2 } }));
      assert.equal((await findCredentialByJti(db.executor, jti1))?.credential.id, c1.id);
      assert.equal((await findCredentialByJti(db.executor, jti1))?.taskStatus, 'active');
      const cases: [string, string, boolean][] = [
        ['unknown jti', randomUUID(), false],
        ['empty jti', '', false],
        ['over-long jti', 'x'.repeat(300), false],
        ['active credential of an active task', jti1, false],
      ];
      for (const [name, jti, want] of cases) assert.equal(await isJtiRevoked(db.executor, jti), want, name);
      await store.markCredentials({ ids: [c1.id], outcome: 'revoked', reason: 'test', now: at(30) });
      assert.equal(await isJtiRevoked(db.executor, jti1), true, 'revoked credential');
      assert.equal(await isJtiRevoked(db.executor, jti2), false, 'sibling still active');
      await store.endTask({ id: taskA, status: 'failed', reason: 'failed', now: at(40) });
      assert.equal(await isJtiRevoked(db.executor, jti2), true, 'task ended');
    });

    if (backend.name === 'pglite') {
      // One session: every notification on the channel is this test's, so exact sets can be asserted.
      it('notifies exactly the revocation types, never issuance, and nothing on rollback', async () => {
        const c = collector();
        const stop = await db.executor.listen(REVOCATION_CHANNEL, c);
        try {
          const seqOf = new Map<string, LedgerEventType>();
          for (const type of LEDGER_EVENT_TYPES) seqOf.set(await append(type), type);
          await assert.rejects(
            db.executor.transaction(async (tx) => {
              await tx.query(`INSERT INTO ledger_events (occurred_at, type) VALUES ($1, 'task.revoked')`, [
                T0,
              ]);
              throw new Error('roll back');
            }),
          );
          const last = await append('task.revoked');
          await c.next((p) => p === last);
          const notified = c.seen.filter((p) => p !== last).map((p) => seqOf.get(p));
          assert.deepEqual([...notified].sort(), [...REVOCATION_EVENT_TYPES].sort());
        } finally {
          await stop();
        }
      });
    }
  });
}
