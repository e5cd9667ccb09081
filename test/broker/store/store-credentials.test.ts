import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IssuanceStore } from '../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { backends, openMigrated, type TestDb } from './support/backends.js';
import { FaultyExecutor } from './support/faulty-executor.js';
import { at, newIssuance, sha256, startTask, T0, workload } from './support/fixtures.js';

for (const backend of backends()) {
  describe(`issuance store credentials on ${backend.name}`, { skip: backend.skip }, () => {
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

    it('records an issuance and its credential.issued event in one commit', async () => {
      const w = workload();
      const taskId = await startTask(store, { workload: w });
      const input = newIssuance(taskId, 'secret-1', { rule: 'crm-readers' });
      const cred = await store.recordIssuance(input);
      assert.equal(cred.status, 'active');
      assert.deepEqual(cred.scopes, ['tickets:read']);
      assert.deepEqual(cred.revocationHandle, input.revocationHandle);
      assert.equal(cred.expiresAt.getTime(), input.expiresAt.getTime());
      const issued = (await store.queryEvents({ taskId, types: ['credential.issued'] })).items[0];
      assert.equal(issued?.credentialId, cred.id);
      assert.equal(issued?.provider, 'crm-api');
      assert.equal(issued?.decision, 'allow');
      assert.equal(issued?.rule, 'crm-readers');
      assert.ok(issued?.workload?.equals(w));
      assert.deepEqual(await store.findCredentialBySecretHash(sha256('secret-1')), cred);
      assert.equal(await store.findCredentialBySecretHash(sha256('other')), undefined);
      assert.equal(await store.findCredentialBySecretHash('not-hex'), undefined);
    });

    it('records nothing when the event cannot be written (no credential without its event)', async () => {
      const taskId = await startTask(store);
      const input = newIssuance(taskId);
      faulty.failNextWith(/INSERT INTO ledger_events/, new Error('disk full'));
      await assert.rejects(store.recordIssuance(input), { code: 'BROKER_STORE_QUERY_FAILED' });
      assert.equal(await store.findCredentialBySecretHash(input.secretHash), undefined);
      assert.equal(await store.countCredentials(taskId), 0);
      assert.deepEqual(await eventsOf(taskId), ['task.started']);
    });

    it('fails closed with BROKER_STORE_UNAVAILABLE when the connection drops mid-issuance', async () => {
      const taskId = await startTask(store);
      const input = newIssuance(taskId);
      faulty.failNextWith(
        /INSERT INTO credentials/,
        Object.assign(new Error('socket'), { code: 'ECONNRESET' }),
      );
      await assert.rejects(store.recordIssuance(input), { code: 'BROKER_STORE_UNAVAILABLE' });
      assert.equal(await store.countCredentials(taskId), 0);
    });

    const refusals = [
      { name: 'an unknown task', code: 'BROKER_TASK_NOT_FOUND', setup: async () => randomUUID() },
      {
        name: 'an ended task',
        code: 'BROKER_TASK_ALREADY_ENDED',
        setup: async (s: IssuanceStore) => {
          const id = await startTask(s);
          await s.endTask({ id, status: 'completed', reason: 'done', now: at(1) });
          return id;
        },
      },
      {
        name: 'a task past its deadline',
        code: 'BROKER_TASK_ALREADY_ENDED',
        setup: (s: IssuanceStore) => startTask(s, { deadline: at(5) }),
      },
    ];
    for (const r of refusals) {
      it(`refuses an issuance for ${r.name} and records nothing`, async () => {
        const taskId = await r.setup(store);
        const input = newIssuance(taskId);
        await assert.rejects(store.recordIssuance(input), { code: r.code });
        assert.equal(await store.findCredentialBySecretHash(input.secretHash), undefined);
        assert.equal((await store.queryEvents({ credentialId: input.id })).items.length, 0);
      });
    }

    it('refuses a reused secret hash and enforces the credentials-per-task quota', async () => {
      const taskId = await startTask(store);
      await store.recordIssuance(newIssuance(taskId, 'same'));
      await assert.rejects(store.recordIssuance(newIssuance(taskId, 'same')), {
        code: 'BROKER_STORE_CONFLICT',
      });
      await store.recordIssuance(newIssuance(taskId, undefined, { maxCredentialsPerTask: 2 }));
      await assert.rejects(
        store.recordIssuance(newIssuance(taskId, undefined, { maxCredentialsPerTask: 2 })),
        {
          code: 'BROKER_POLICY_QUOTA_EXCEEDED',
        },
      );
      assert.equal(await store.countCredentials(taskId), 2);
    });

    it('returns the active credentials of an ending task, and none issue after it', async () => {
      const taskId = await startTask(store);
      const a = await store.recordIssuance(newIssuance(taskId));
      const b = await store.recordIssuance(newIssuance(taskId));
      await store.markCredentials({ ids: [b.id], outcome: 'revoked', reason: 'operator', now: at(20) });
      const ended = await store.endTask({ id: taskId, status: 'completed', reason: 'done', now: at(30) });
      assert.deepEqual(
        ended.activeCredentials.map((c) => c.id),
        [a.id],
      );
      await assert.rejects(store.recordIssuance(newIssuance(taskId, undefined, { now: at(31) })), {
        code: 'BROKER_TASK_ALREADY_ENDED',
      });
    });

    it('marks credentials revoked or revoke_failed once each, with one event each', async () => {
      const taskId = await startTask(store);
      const a = await store.recordIssuance(newIssuance(taskId));
      const b = await store.recordIssuance(newIssuance(taskId));
      const mark = (ids: string[], outcome: 'revoked' | 'revoke_failed') =>
        store.markCredentials({ ids, outcome, reason: 'task completed', now: at(40) });
      assert.deepEqual(await mark([b.id], 'revoke_failed'), [b.id]);
      assert.deepEqual(await mark([b.id], 'revoke_failed'), [], 'already revoke_failed');
      assert.deepEqual((await mark([a.id, b.id], 'revoked')).sort(), [a.id, b.id].sort());
      assert.deepEqual(await mark([a.id], 'revoked'), [], 'already revoked');
      const revoked = await store.findCredentialBySecretHash(a.secretHash);
      assert.equal(revoked?.status, 'revoked');
      assert.equal(revoked?.revokedAt?.getTime(), at(40).getTime());
      const types = (await store.queryEvents({ taskId })).items.map(
        (e) => `${e.type}:${e.credentialId ?? ''}`,
      );
      assert.equal(types.filter((t) => t === `credential.revoke_failed:${b.id}`).length, 1);
      assert.equal(types.filter((t) => t.startsWith('credential.revoked:')).length, 2);
      await assert.rejects(mark(['nope'], 'revoked'), { code: 'BROKER_INPUT_INVALID' });
    });

    it('records denials, appended events and policy versions in the ledger', async () => {
      const w = workload();
      const denial = await store.recordDenial({
        type: 'credential.denied',
        occurredAt: T0,
        workload: w,
        provider: 'reports-aws',
        reason: 'provider not in manifest',
        rule: 'agents',
      });
      assert.equal(denial.decision, 'deny');
      await store.appendEvents([
        { type: 'signal.received', occurredAt: T0, workload: w, details: { score: 0.9 } },
      ]);
      const v1 = await store.recordPolicyVersion({ sha256: sha256('p1'), source: 'policy.yaml', now: T0 });
      const v2 = await store.recordPolicyVersion({ sha256: sha256('p2'), source: 'policy.yaml', now: at(1) });
      assert.equal(v2, v1 + 1);
      const mine = (await store.queryEvents({ workload: w })).items;
      assert.deepEqual(
        mine.map((e) => e.type),
        ['credential.denied', 'signal.received'],
      );
      const reloads = (await store.queryEvents({ types: ['policy.reloaded'] })).items;
      assert.deepEqual(reloads.at(-1)?.details, { version: v2, sha256: sha256('p2'), source: 'policy.yaml' });
    });

    it('never stores a secret: only its hash and the handle', async () => {
      const secret = `tp-secret-${randomUUID()}`;
      const taskId = await startTask(store);
      const cred = await store.recordIssuance(newIssuance(taskId, secret));
      await store.endTask({ id: taskId, status: 'completed', reason: 'done', now: at(30) });
      await store.markCredentials({ ids: [cred.id], outcome: 'revoked', reason: 'done', now: at(31) });
      const tables = await db.executor.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      assert.ok(tables.rows.length >= 6);
      for (const { t } of tables.rows) {
        const dump = await db.executor.query<{ text: string }>(
          `SELECT coalesce(string_agg(x::text, '\n'), '') AS text FROM ${t} x`,
        );
        const text = dump.rows[0]?.text ?? '';
        assert.ok(!text.includes(secret), `table ${t} holds the secret`);
      }
      const creds = await db.executor.query<{ text: string }>(
        "SELECT string_agg(x::text, '\n') AS text FROM credentials x",
      );
      assert.ok(creds.rows[0]?.text.includes(sha256(secret)), 'the hash is what is stored');
    });
  });
}
