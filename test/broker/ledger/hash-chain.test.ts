import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createLedgerSealer,
  GENESIS_HASH,
  sealRows,
  verifyChain,
  type ChainBroken,
  type LedgerSealer,
} from '../../../broker/ledger/hash-chain.js';
import type { IssuanceStore } from '../../../broker/store/issuance-store.js';
import { createMigrator, loadMigrations } from '../../../broker/store/migrator.js';
import {
  createSqlChainStore,
  type LedgerChainStore,
  type LedgerEventRow,
} from '../../../broker/store/sql-chain-store.js';
import { translateStoreError } from '../../../broker/store/sql-errors.js';
import type { SqlExecutor } from '../../../broker/store/sql-executor.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from '../store/support/backends.js';
import { at, newIssuance, startTask, T0 } from '../store/support/fixtures.js';

const row = (seq: number, details: LedgerEventRow['details'] = {}): LedgerEventRow => ({
  seq,
  occurred_at: T0,
  type: 'signal.received',
  workload: null,
  task_id: null,
  credential_id: null,
  provider: null,
  decision: null,
  reason: null,
  rule: null,
  details,
  chain_pos: null,
  prev_hash: null,
  hash: null,
});

describe('sealRows', () => {
  it('links each seal to the previous hash from the genesis hash', () => {
    const seals = sealRows({ pos: 0, hash: null, seq: 0 }, [row(3), row(1)]);
    assert.deepEqual(
      seals.map((s) => [s.seq, s.pos]),
      [
        [3, 1],
        [1, 2],
      ],
    );
    assert.equal(seals[0]?.prevHash, GENESIS_HASH);
    assert.equal(seals[1]?.prevHash, seals[0]?.hash);
    assert.match(seals[0]!.hash, /^[0-9a-f]{64}$/);
  });

  it('hashes content, position and key order independently of insertion order', () => {
    const head = { pos: 0, hash: null, seq: 0 };
    const [a] = sealRows(head, [row(1, { x: 1, y: 2 })]);
    const [b] = sealRows(head, [row(1, { y: 2, x: 1 })]);
    const [c] = sealRows(head, [row(1, { x: 1, y: 3 })]);
    const [d] = sealRows({ pos: 1, hash: GENESIS_HASH, seq: 0 }, [row(1, { x: 1, y: 2 })]);
    assert.equal(a?.hash, b?.hash);
    assert.notEqual(a?.hash, c?.hash);
    assert.notEqual(a?.hash, d?.hash);
  });
});

/** Runs `sql` with the ledger's guards switched off: what an attacker with DDL rights can do. */
async function tamper(db: SqlExecutor, sql: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('ALTER TABLE ledger_events DISABLE TRIGGER USER');
    await tx.exec(sql);
    await tx.exec('ALTER TABLE ledger_events ENABLE TRIGGER USER');
  });
}

for (const backend of backends()) {
  describe(`ledger hash chain on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let store: IssuanceStore;
    let chain: LedgerChainStore;
    let sealer: LedgerSealer;
    let seqs: number[];
    before(async () => {
      db = await openMigrated(backend);
    });
    after(() => db?.cleanup());
    beforeEach(async () => {
      // A fresh ledger for each test: migrate all the way down and up again.
      const migrator = createMigrator(db.executor, await loadMigrations());
      await migrator.down('all');
      await migrator.up();
      store = createSqlIssuanceStore(db.executor);
      chain = createSqlChainStore(db.executor);
      sealer = createLedgerSealer({ chain, batchSize: 3 });
      const taskId = await startTask(store);
      for (let i = 0; i < 3; i++)
        await store.recordIssuance(newIssuance(taskId, undefined, { now: at(10 + i) }));
      await store.endTask({ id: taskId, status: 'completed', reason: 'done', now: at(20) });
      seqs = (await store.queryEvents({ taskId })).items.map((e) => e.seq);
    });

    it('seals committed events in batches and verifies the chain', async () => {
      assert.deepEqual(await verifyChain(chain), {
        ok: true,
        events: 0,
        sealedThrough: 0,
        headHash: GENESIS_HASH,
        unsealed: 5,
      });
      assert.deepEqual(await sealer.sealPending({ wait: true }), { sealed: 5, busy: false });
      const result = await verifyChain(chain, { pageSize: 2 });
      assert.equal(result.ok, true);
      assert.deepEqual(result.ok && [result.events, result.sealedThrough, result.unsealed], [
        5,
        seqs.at(-1),
        0,
      ]);
      await store.appendEvents([{ type: 'signal.received', occurredAt: at(30), details: { score: 1 } }]);
      sealer.notify();
      sealer.notify();
      await sealer.idle();
      const again = await verifyChain(chain);
      assert.ok(again.ok && again.events === 6 && again.unsealed === 0);
    });

    const tampering: {
      name: string;
      sql: (s: number[]) => string;
      bad: (s: number[]) => number;
      kind: ChainBroken['kind'];
    }[] = [
      {
        name: 'an edited row',
        sql: (s) => `UPDATE ledger_events SET reason = 'nothing to see' WHERE seq = ${s[2]}`,
        bad: (s) => s[2]!,
        kind: 'content_changed',
      },
      {
        name: 'edited details',
        sql: (s) =>
          `UPDATE ledger_events SET details = details || '{"scopes":["admin"]}' WHERE seq = ${s[1]}`,
        bad: (s) => s[1]!,
        kind: 'content_changed',
      },
      {
        name: 'a deleted row (a hole in the chain)',
        sql: (s) => `DELETE FROM ledger_events WHERE seq = ${s[1]}`,
        bad: (s) => s[2]!,
        kind: 'missing_event',
      },
      {
        name: 'two reordered rows',
        sql: (s) => `UPDATE ledger_events SET chain_pos = 1000 WHERE seq = ${s[1]};
          UPDATE ledger_events SET chain_pos = 2 WHERE seq = ${s[2]};
          UPDATE ledger_events SET chain_pos = 3 WHERE seq = ${s[1]};`,
        bad: (s) => s[2]!,
        kind: 'broken_link',
      },
      {
        name: 'a row deleted and reinserted with a new seq',
        sql: (s) =>
          `WITH gone AS (DELETE FROM ledger_events WHERE seq = ${s[3]} RETURNING *)
           INSERT INTO ledger_events (occurred_at, type, workload, task_id, credential_id, provider, decision,
             reason, rule, details, chain_pos, prev_hash, hash)
           SELECT occurred_at, type, workload, task_id, credential_id, provider, decision, reason, rule, details,
             chain_pos, prev_hash, hash FROM gone`,
        bad: () => -1,
        kind: 'content_changed',
      },
    ];
    for (const t of tampering) {
      it(`detects ${t.name} and names the first bad event`, async () => {
        await sealer.sealPending({ wait: true });
        await tamper(db.executor, t.sql(seqs));
        const result = await verifyChain(chain, { pageSize: 2 });
        assert.equal(result.ok, false);
        const broken = result as ChainBroken;
        assert.equal(broken.kind, t.kind);
        if (t.bad(seqs) > 0) assert.equal(broken.firstBadSeq, t.bad(seqs));
        else assert.ok(!seqs.includes(broken.firstBadSeq), 'the reinserted row is named');
      });
    }

    const guarded: { name: string; sql: (s: number[]) => string }[] = [
      {
        name: 'an update of a sealed row',
        sql: (s) => `UPDATE ledger_events SET reason = 'x' WHERE seq = ${s[0]}`,
      },
      { name: 'a reseal', sql: (s) => `UPDATE ledger_events SET hash = repeat('a', 64) WHERE seq = ${s[0]}` },
      { name: 'a delete', sql: (s) => `DELETE FROM ledger_events WHERE seq = ${s[0]}` },
      { name: 'a truncate', sql: () => 'TRUNCATE ledger_events' },
      { name: 'a delete of a credential', sql: () => 'DELETE FROM credentials' },
      { name: 'a delete of a task', sql: () => 'DELETE FROM tasks' },
    ];
    for (const g of guarded) {
      it(`refuses ${g.name}: the ledger is append-only`, async () => {
        await sealer.sealPending({ wait: true });
        const err = await db.executor.exec(g.sql(seqs)).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(translateStoreError(err).code, 'BROKER_LEDGER_APPEND_ONLY');
        assert.equal((await verifyChain(chain)).ok, true);
      });
    }

    it('refuses to change an unsealed event other than by sealing it', async () => {
      const err = await db.executor
        .exec(`UPDATE ledger_events SET type = 'task.failed' WHERE seq = ${seqs[4]}`)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.equal(translateStoreError(err).code, 'BROKER_LEDGER_APPEND_ONLY');
    });

    if (backend.name === 'postgres') {
      it('lets concurrent sealers on several replicas seal each event once, while events are appended', async () => {
        const replicas = [db.executor, db.replica!(), db.replica!()].map((e) =>
          createLedgerSealer({ chain: createSqlChainStore(e), batchSize: 4 }),
        );
        const appends = Array.from({ length: 40 }, (_, i) =>
          store.appendEvents([{ type: 'signal.received', occurredAt: at(100 + i), details: { i } }]),
        );
        const seals = Array.from({ length: 12 }, (_, i) =>
          replicas[i % 3]!.sealPending({ wait: i % 2 === 0 }),
        );
        await Promise.all([...appends, ...seals]);
        await replicas[0]!.sealPending({ wait: true });
        const result = await verifyChain(chain);
        assert.ok(result.ok, JSON.stringify(result));
        assert.equal(result.events, 45);
        assert.equal(result.unsealed, 0);
      });
    }
  });
}
