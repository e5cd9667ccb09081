import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { BrokerError } from '../../../broker/errors.js';
import { createSqlTaskTokenKeyStore } from '../../../broker/store/sql-task-token-key-store.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';

const HOUR = 3600;

for (const backend of backends()) {
  describe(`task-token keys shared in the database on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    const kek = randomBytes(32);
    const clock = new FakeClock('2026-11-21T00:00:00Z');
    before(async () => {
      db = await openMigrated(backend);
    });
    after(() => db?.cleanup());

    const open = (executor = db.executor, key = kek) =>
      TaskTokenKeyring.open({
        store: createSqlTaskTokenKeyStore(executor, key, clock),
        rotationIntervalSeconds: HOUR,
        overlapSeconds: HOUR,
        now: clock.now(),
      });
    const kids = (k: TaskTokenKeyring) => k.jwks(clock.now()).keys.map((j) => j.kid);

    it('a second broker opening the store adopts the first one key set, never a second key', async () => {
      const a = await open();
      const b = await open(db.replica?.() ?? db.executor);
      assert.equal(kids(a).length, 1);
      assert.deepEqual(kids(b), kids(a));
    });

    it('the row holds no private key material in the clear', async () => {
      const res = await db.executor.query<{ sealed: string }>('SELECT sealed FROM task_token_keys');
      assert.equal(res.rows.length, 1);
      const sealed = res.rows[0]!.sealed;
      assert.match(sealed, /^v1\./);
      assert.ok(!sealed.includes('"d"') && !sealed.includes('privateJwk'));
    });

    it('a rotation by one replica reaches the other on refresh; both publish old and new keys', async () => {
      const a = await open();
      const b = await open(db.replica?.() ?? db.executor);
      const before = kids(a);
      clock.advance(HOUR * 1000 + 1);
      assert.equal(await a.rotateIfDue(clock.now()), true);
      assert.equal(kids(a).length, 2);
      assert.equal(await b.refresh(), true);
      assert.deepEqual(kids(b), kids(a));
      assert.ok(
        before.every((kid) => kids(b).includes(kid)),
        'the retired key stays published',
      );
      assert.equal(await b.refresh(), false, 'nothing new the second time');
    });

    it('two replicas due at once rotate once between them (compare-and-set), not twice', async () => {
      const a = await open();
      const b = await open(db.replica?.() ?? db.executor);
      clock.advance(HOUR * 1000 + 1);
      const results = await Promise.all([a.rotateIfDue(clock.now()), b.rotateIfDue(clock.now())]);
      await a.refresh();
      await b.refresh();
      assert.deepEqual(kids(a), kids(b));
      const current = a.jwks(clock.now()).keys.length;
      assert.ok(current <= 3, `one new key, the retired one, and at most one still overlapping: ${current}`);
      const es256 = await a.signingKey('ES256', clock.now());
      assert.equal((await b.signingKey('ES256', clock.now())).kid, es256.kid, 'both sign with one key');
      assert.ok(results.includes(true));
    });

    it('a broker with another key-encryption key is refused with BROKER_ADAPTER_KEY_STORE', async () => {
      await assert.rejects(open(db.executor, randomBytes(32)), (err: unknown) => {
        return err instanceof BrokerError && err.code === 'BROKER_ADAPTER_KEY_STORE';
      });
    });
  });
}
