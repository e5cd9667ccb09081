import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { createRevocationFeed, type RevocationFeed } from '../../../broker/revocation/feed.js';
import type { IssuanceStore, LedgerEventType } from '../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { backends, openMigrated, type TestDb } from '../store/support/backends.js';
import { at, newIssuance, startTask, T0 } from '../store/support/fixtures.js';
import { FeedRecorder } from './support/feed-recorder.js';

const logger = pino({ level: 'silent' });
const DAY = 86_400;

for (const backend of backends()) {
  describe(`revocation feed on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let store: IssuanceStore;
    const feeds: RevocationFeed[] = [];
    before(async () => {
      db = await openMigrated(backend);
      store = createSqlIssuanceStore(db.executor);
    });
    after(async () => {
      await Promise.all(feeds.map((f) => f.stop()));
      await db?.cleanup();
    });

    const feed = (extra: Partial<Parameters<typeof createRevocationFeed>[0]> = {}) => {
      const f = createRevocationFeed({
        db: db.executor,
        clock: new FakeClock(T0),
        logger,
        horizonSeconds: DAY,
        ...extra,
      });
      feeds.push(f);
      return f;
    };
    const append = async (type: LedgerEventType, extra: { credentialId?: string; taskId?: string } = {}) =>
      String((await store.appendEvents([{ type, occurredAt: at(20), ...extra }]))[0]!.seq);
    const head = async () =>
      String((await store.appendEvents([{ type: 'signal.received', occurredAt: T0 }]))[0]!.seq);

    it('catches up from the ledger after a position, then delivers live events, in order, once each', async () => {
      const taskId = await startTask(store);
      const jti = randomUUID();
      const cred = await store.recordIssuance(newIssuance(taskId, undefined, { revocationHandle: { jti } }));
      const start = await head();
      const s1 = await append('credential.revoked', { credentialId: cred.id, taskId });
      await append('credential.issued', { taskId });
      const s2 = await append('task.revoked', { taskId });
      const f = feed();
      const rec = new FeedRecorder();
      const stop = await f.subscribe({ afterSeq: start }, rec.onEvent, rec.onError);
      assert.deepEqual(rec.seqs(), [s1, s2], 'catch-up done when subscribe resolves');
      assert.deepEqual(rec.events[0], {
        seq: s1,
        type: 'credential.revoked',
        occurred_at: at(20).toISOString(),
        task_id: taskId,
        credential_id: cred.id,
        workload: null,
        provider: null,
        jti,
        expires_at: cred.expiresAt.toISOString(),
      });
      const s3 = await append('task.completed', { taskId });
      await rec.seen(s3);
      assert.deepEqual(rec.seqs(), [s1, s2, s3]);
      const resumed = new FeedRecorder();
      const stop2 = await f.subscribe({ afterSeq: s2 }, resumed.onEvent, resumed.onError);
      assert.deepEqual(resumed.seqs(), [s3], 'resuming from s2 replays only what followed');
      const witness = new FeedRecorder();
      await f.subscribe({ afterSeq: s3 }, witness.onEvent, witness.onError);
      stop();
      stop2();
      const s4 = await append('task.failed');
      await witness.seen(s4);
      assert.deepEqual(rec.seqs(), [s1, s2, s3], 'nothing after unsubscribing');
      assert.deepEqual(resumed.seqs(), [s3]);
      assert.deepEqual(rec.errors, []);
    });

    it('replays no event older than the horizon (one task-token lifetime)', async () => {
      const old = String(
        (
          await store.appendEvents([
            { type: 'task.revoked', occurredAt: new Date(T0.getTime() - 2 * DAY * 1000) },
          ])
        )[0]!.seq,
      );
      const recent = await append('task.revoked');
      const rec = new FeedRecorder();
      const stop = await feed().subscribe({}, rec.onEvent, rec.onError);
      assert.ok(rec.seqs().includes(recent));
      assert.ok(!rec.seqs().includes(old));
      stop();
    });

    it('refuses a malformed position with BROKER_INPUT_INVALID', async () => {
      const f = feed();
      for (const afterSeq of [
        '',
        '-1',
        'abc',
        '01',
        '1.5',
        ' 1',
        '1e3',
        '9223372036854775808',
        '1'.repeat(20),
      ]) {
        await assert.rejects(
          f.subscribe(
            { afterSeq },
            () => undefined,
            () => undefined,
          ),
          { code: 'BROKER_INPUT_INVALID' },
          JSON.stringify(afterSeq),
        );
      }
    });

    it('drops a subscriber whose catch-up falls too far behind live events (BROKER_FEED_SLOW_CONSUMER)', async () => {
      const start = await head();
      await append('task.revoked');
      const f = feed({ maxBuffered: 2 });
      await f.start();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const rec = new FeedRecorder();
      let first = true;
      const subscribing = f.subscribe(
        { afterSeq: start },
        (e) => {
          rec.onEvent(e);
          if (first) {
            first = false;
            return held;
          }
        },
        rec.onError,
      );
      await rec.until(() => rec.events.length === 1);
      for (let i = 0; i < 3; i++) await append('task.revoked');
      await rec.until(() => rec.errors.length > 0);
      assert.equal((rec.errors[0] as { code?: string }).code, 'BROKER_FEED_SLOW_CONSUMER');
      release();
      await subscribing;
    });

    it('ends every subscription with BROKER_FEED_STOPPED on stop, and refuses new ones', async () => {
      const f = feed();
      const rec = new FeedRecorder();
      await f.subscribe({ afterSeq: await head() }, rec.onEvent, rec.onError);
      await f.stop();
      assert.equal((rec.errors[0] as { code?: string }).code, 'BROKER_FEED_STOPPED');
      await assert.rejects(
        f.subscribe(
          {},
          () => undefined,
          () => undefined,
        ),
        { code: 'BROKER_FEED_STOPPED' },
      );
    });
  });
}
