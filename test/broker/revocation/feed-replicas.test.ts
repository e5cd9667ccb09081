/**
 * The feed across broker replicas on one real PostgreSQL server: each replica is its own executor
 * (pool + listener connection) on the same schema, as separate broker processes would be.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createRevocationFeed, type RevocationFeed } from '../../../broker/revocation/feed.js';
import type { IssuanceStore, LedgerEventType } from '../../../broker/store/issuance-store.js';
import { listenPg } from '../../../broker/store/pg-listener.js';
import type { SqlExecutor } from '../../../broker/store/sql-executor.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { backends, openMigrated, type TestDb } from '../store/support/backends.js';
import { at, T0 } from '../store/support/fixtures.js';
import { FeedRecorder } from './support/feed-recorder.js';

const logger = pino({ level: 'silent' });
const postgres = backends().find((b) => b.name === 'postgres')!;

/** Polls a database condition (the server's own state, not a timing guess) until it holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe('revocation feed across replicas on postgres', { skip: postgres.skip, timeout: 60_000 }, () => {
  let db: TestDb;
  let store: IssuanceStore;
  let schema: string;
  const feeds: RevocationFeed[] = [];
  before(async () => {
    db = await openMigrated(postgres);
    store = createSqlIssuanceStore(db.executor);
    schema = (await db.executor.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  });
  after(async () => {
    await Promise.all(feeds.map((f) => f.stop()));
    await db?.cleanup();
  });

  const replicaFeed = (executor: SqlExecutor, sleep?: (ms: number) => Promise<void>) => {
    const f = createRevocationFeed({
      db: executor,
      clock: new FakeClock(T0),
      logger,
      horizonSeconds: 86_400,
      ...(sleep ? { sleep } : {}),
    });
    feeds.push(f);
    return f;
  };
  const append = async (type: LedgerEventType) =>
    String((await store.appendEvents([{ type, occurredAt: at(20) }]))[0]!.seq);
  const head = () => append('signal.received');

  it('delivers a revocation committed through one replica to a subscriber of another', async () => {
    const feed = replicaFeed(db.replica!());
    const rec = new FeedRecorder();
    await feed.subscribe({ afterSeq: await head() }, rec.onEvent, rec.onError);
    const seq = await append('task.revoked');
    await rec.seen(seq);
    assert.deepEqual(rec.seqs(), [seq]);
  });

  it('catches up after its listening connection is killed, losing nothing', async () => {
    const replica = db.replica!();
    const url = process.env['TASKPASS_TEST_DATABASE_URL']!;
    // The replica's executor, listening with a slow first reconnect so the events below are
    // certainly committed while nobody listens (the catch-up path, not the notification path).
    const slowReconnect: SqlExecutor = Object.assign(Object.create(replica) as SqlExecutor, {
      listen: ((channel, handlers) =>
        listenPg({ url, label: schema, initialBackoffMs: 1000 }, channel, handlers)) as SqlExecutor['listen'],
    });
    const listening = async () =>
      (
        await db.executor.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
          [`taskpass-listen:${schema}`],
        )
      ).rows.map((r) => r.pid);
    // Other replicas of this suite listen under the same label: only this feed's connections count.
    const others = new Set(await listening());
    const listeners = async () => (await listening()).filter((p) => !others.has(p));
    const feed = replicaFeed(slowReconnect);
    const rec = new FeedRecorder();
    await feed.subscribe({ afterSeq: await head() }, rec.onEvent, rec.onError);
    const [pid] = await listeners();
    assert.ok(pid !== undefined, 'the replica listens on its own connection');
    await db.executor.query('SELECT pg_terminate_backend($1)', [pid]);
    await until(async () => (await listeners()).length === 0);
    const missed = [
      await append('task.revoked'),
      await append('credential.revoked'),
      await append('task.expired'),
    ];
    assert.deepEqual(await listeners(), [], 'committed while no listener was connected');
    for (const seq of missed) await rec.seen(seq);
    assert.deepEqual(rec.seqs(), missed);
    const [again] = await listeners();
    assert.ok(again !== undefined && again !== pid, 'listening again on a new connection');
    const live = await append('task.failed');
    await rec.seen(live);
    assert.deepEqual(rec.errors, []);
  });

  it('holds a later seq back until an earlier one still being written commits (safe to resume)', async () => {
    let signalWaiting!: () => void;
    const waiting = new Promise<void>((r) => (signalWaiting = r));
    const feed = replicaFeed(db.replica!(), (ms) => {
      signalWaiting();
      return new Promise((r) => setTimeout(r, ms));
    });
    const rec = new FeedRecorder();
    await feed.subscribe({ afterSeq: await head() }, rec.onEvent, rec.onError);
    let commitA!: () => void;
    const gate = new Promise<void>((r) => (commitA = r));
    let insertedA!: (seq: string) => void;
    const aSeqP = new Promise<string>((r) => (insertedA = r));
    const txA = db.replica!().transaction(async (tx) => {
      const res = await tx.query<{ seq: string }>(
        `INSERT INTO ledger_events (occurred_at, type) VALUES ($1, 'task.revoked') RETURNING seq::text AS seq`,
        [at(20)],
      );
      insertedA(res.rows[0]!.seq);
      await gate;
    });
    const aSeq = await aSeqP;
    const bSeq = await append('task.revoked');
    assert.ok(BigInt(aSeq) < BigInt(bSeq));
    await Promise.race([
      waiting,
      rec.seen(bSeq).then(() => assert.fail('delivered a seq while an earlier one could still commit')),
    ]);
    commitA();
    await txA;
    await rec.seen(bSeq);
    assert.deepEqual(rec.seqs(), [aSeq, bSeq]);
  });

  it('is not held back by an open transaction that writes no revocation event (issuance)', async () => {
    const feed = replicaFeed(db.replica!());
    const rec = new FeedRecorder();
    await feed.subscribe({ afterSeq: await head() }, rec.onEvent, rec.onError);
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    let opened!: () => void;
    const isOpen = new Promise<void>((r) => (opened = r));
    const issuance = db.replica!().transaction(async (tx) => {
      await tx.query(`INSERT INTO ledger_events (occurred_at, type) VALUES ($1, 'credential.issued')`, [
        at(20),
      ]);
      opened();
      await gate;
    });
    await isOpen;
    const seq = await append('task.revoked');
    await rec.seen(seq);
    finish();
    await issuance;
    assert.deepEqual(rec.seqs(), [seq]);
  });
});
