// Operator revocations (ISSUE 4, "Revoke anything") on PGlite and on the real PostgreSQL server:
// every target kind and selector, cascades, expires-only exposure, confirmation of broad selectors,
// and the ledger events each call leaves (linked by one revocation_id).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RevocationResult, RevocationSelector } from '../../../broker/api/ports.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { backends } from '../store/support/backends.js';
import { codeOf, createRevocationHarness, type RevocationHarness } from './support/revocation-harness.js';

for (const backend of backends()) {
  describe(`revocation service on ${backend.name}`, { skip: backend.skip }, () => {
    let h: RevocationHarness;
    before(async () => {
      h = await createRevocationHarness(backend);
    });
    after(() => h.close());

    const status = async (taskId: string) => (await h.store.getTask(taskId))?.status;
    const revoke = (target: Parameters<typeof h.engine.service.revoke>[1]['target'], confirm?: boolean) =>
      h.engine.service.revoke(h.operator, { target, reason: 'incident 42', ...(confirm && { confirm }) });

    /** The task.revoked events of this revocation, by task id. */
    async function revokedEvents(result: RevocationResult): Promise<string[]> {
      const events = await h.events('task.revoked');
      return events
        .filter((e) => e.details['revocation_id'] === result.revocationId)
        .map((e) => e.taskId as string)
        .sort();
    }

    it('revokes one credential: its backend is called, the task stays active, the ledger links both events', async () => {
      const w = h.caller('/agents/by-credential');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api', 'rec-api']);
      const result = await revoke({ kind: 'credential', credentialId: credentials[0]! });
      assert.deepEqual(result.tasks, []);
      assert.deepEqual(
        result.credentials.map((c) => [c.id, c.outcome]),
        [[credentials[0], 'revoked']],
      );
      assert.deepEqual(result.counts, { revoked: 1, pending: 0, notRevocable: 0 });
      assert.equal(await status(taskId), 'active');
      const [requested] = await h.events('revocation.requested', { credentialId: credentials[0]! });
      assert.equal(requested?.details['revocation_id'], result.revocationId);
      assert.equal(requested?.details['by'], h.operator.id.toString());
      assert.deepEqual(requested?.details['target'], { credential_id: credentials[0] });
      assert.equal(requested?.reason, 'incident 42');
      assert.equal(requested?.workload?.toString(), w.id.toString());
      const [revoked] = await h.events('credential.revoked', { credentialId: credentials[0]! });
      assert.equal(revoked?.details['revocation_id'], result.revocationId);
      assert.equal((await h.events('credential.revoked', { credentialId: credentials[1]! })).length, 0);
    });

    it('answers an unknown credential or task as not found, and changes nothing', async () => {
      const before = (await h.events('revocation.requested')).length;
      const cases: [Parameters<typeof revoke>[0], string][] = [
        [
          { kind: 'credential', credentialId: '5b8f0a52-4a3c-4d51-9e0e-2c1f5f6b7a10' },
          'BROKER_CREDENTIAL_NOT_FOUND',
        ],
        [{ kind: 'credential', credentialId: 'not-a-uuid' }, 'BROKER_CREDENTIAL_NOT_FOUND'],
        [{ kind: 'task', taskId: '5b8f0a52-4a3c-4d51-9e0e-2c1f5f6b7a10' }, 'BROKER_TASK_NOT_FOUND'],
        [{ kind: 'task', taskId: '../etc' }, 'BROKER_TASK_NOT_FOUND'],
      ];
      for (const [target, code] of cases)
        assert.equal(await codeOf(revoke(target)), code, JSON.stringify(target));
      assert.equal((await h.events('revocation.requested')).length, before);
    });

    it('revokes a task and cascades to its sub-tasks, also below an ended one', async () => {
      const w = h.caller('/agents/cascade');
      const root = await h.taskWith(w, ['rec-api']);
      const child = await h.taskWith(w, ['rec-api'], root.taskId);
      const grandchild = await h.taskWith(w, ['rec-api'], child.taskId);
      const sibling = await h.taskWith(w, ['rec-api']);
      await h.tasks.complete(w, child.taskId);
      const result = await revoke({ kind: 'task', taskId: root.taskId });
      assert.deepEqual([...result.tasks].sort(), [root.taskId, grandchild.taskId].sort());
      assert.deepEqual(await revokedEvents(result), [root.taskId, grandchild.taskId].sort());
      assert.equal(await status(root.taskId), 'revoked');
      assert.equal(await status(child.taskId), 'completed', 'an ended task keeps its end');
      assert.equal(await status(grandchild.taskId), 'revoked');
      assert.equal(await status(sibling.taskId), 'active');
      assert.deepEqual(
        result.credentials.map((c) => c.outcome),
        ['revoked', 'revoked'],
      );
      const [event] = (await h.events('task.revoked', { taskId: root.taskId })).slice(-1);
      assert.equal(event?.reason, 'incident 42');
      assert.equal(event?.details['by'], h.operator.id.toString());
      assert.equal(event?.details['queued'], 1);
    });

    it('revokes every active task of a workload and no other', async () => {
      const w = h.caller('/agents/by-workload');
      const other = h.caller('/agents/by-workload-not');
      const a = await h.taskWith(w, ['rec-api']);
      const b = await h.taskWith(w, []);
      const c = await h.taskWith(other, ['rec-api']);
      const result = await revoke({ kind: 'workload', workload: w.id });
      assert.deepEqual([...result.tasks].sort(), [a.taskId, b.taskId].sort());
      assert.equal(await status(c.taskId), 'active');
      const [requested] = await h.events('revocation.requested', { workload: w.id });
      assert.equal(requested?.details['tasks'], 2);
    });

    it('reports an expires-only credential as not revocable, exposed until its expiry, in answer and ledger', async () => {
      const w = h.caller('/agents/expires-only');
      const calls = h.eo.revokeCalls().size;
      const { taskId, credentials } = await h.taskWith(w, ['eo-api', 'rec-api']);
      const listed = (await h.revocationStore.listCredentials({ taskId })).items;
      const eoExpiry = listed.find((c) => c.id === credentials[0])?.expiresAt;
      const result = await revoke({ kind: 'task', taskId });
      assert.deepEqual(result.counts, { revoked: 1, pending: 0, notRevocable: 1 });
      assert.equal(result.credentials.find((c) => c.id === credentials[0])?.outcome, 'not_revocable');
      assert.equal(result.exposedUntil?.getTime(), eoExpiry?.getTime());
      assert.equal(h.eo.revokeCalls().size, calls, 'an expires-only backend is never asked to revoke');
      const [event] = await h.events('task.revoked', { taskId });
      assert.equal(event?.details['exposed_until'], eoExpiry?.toISOString());
      assert.deepEqual(event?.details['not_revocable'], [
        { credential_id: credentials[0], provider: 'eo-api', exposed_until: eoExpiry?.toISOString() },
      ]);
      // Completing a task reports the same.
      const t2 = await h.taskWith(w, ['eo-api']);
      const ended = await h.tasks.complete(w, t2.taskId);
      assert.deepEqual(ended.credentials.expiresOnly, t2.credentials);
    });

    it('answers pending for a credential whose backend fails, and revokes it later from the queue', async () => {
      const w = h.caller('/agents/pending');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      h.rec.fake.failNextWith(new Error('timeout'), 'revoke');
      const result = await revoke({ kind: 'task', taskId });
      assert.deepEqual(result.counts, { revoked: 0, pending: 1, notRevocable: 0 });
      h.clock.advance(1000);
      await h.engine.worker.runOnce();
      const [revoked] = await h.events('credential.revoked', { credentialId: credentials[0]! });
      assert.equal(revoked?.details['revocation_id'], result.revocationId);
    });

    it('revokes by selector: prefix, glob, trust domain, provider, started before (every member must hold)', async () => {
      const mk = async (id: string, providers: string[] = ['rec-api']) =>
        (await h.taskWith(h.caller(id), providers)).taskId;
      const a1 = await mk('/sel/team-a/w1');
      const a2 = await mk('/sel/team-a/sub/w2');
      const ab = await mk('/sel/team-ab/w3');
      const db1 = await mk('/sel/x/db');
      const web = await mk('/sel/x/web');
      const eoOnly = await mk('/sel/eo/w', ['eo-api']);
      const foreign = await mk('spiffe://other.test/sel/w');
      h.clock.advance(60_000);
      const late = await mk('/sel/late/w');

      const run = async (selector: RevocationSelector, confirm?: boolean) =>
        [...(await revoke({ kind: 'selector', selector }, confirm)).tasks].sort();
      assert.deepEqual(await run({ spiffeIdPrefix: 'spiffe://taskpass.local/sel/team-a' }), [a1, a2].sort());
      assert.equal(await status(ab), 'active', 'a prefix is segment-wise');
      assert.deepEqual(await run({ spiffeIdGlob: 'spiffe://taskpass.local/sel/*/db' }), [db1]);
      assert.deepEqual(await run({ spiffeIdPrefix: 'spiffe://taskpass.local/sel', provider: 'eo-api' }), [
        eoOnly,
      ]);
      assert.deepEqual(await run({ trustDomain: 'other.test' }, true), [foreign]);
      const before = h.clock.now();
      assert.deepEqual(
        await run({
          spiffeIdPrefix: 'spiffe://taskpass.local/sel',
          startedBefore: new Date(before.getTime() - 1),
        }),
        [ab, web].sort(),
      );
      assert.equal(await status(late), 'active');
      const requested = (await h.events('revocation.requested')).at(-1);
      assert.deepEqual(requested?.details['target'], {
        selector: {
          spiffe_id_prefix: 'spiffe://taskpass.local/sel',
          started_before: new Date(before.getTime() - 1).toISOString(),
        },
        confirm: false,
      });
    });

    it('refuses a broad selector without confirm, changing nothing', async () => {
      const w = h.caller('/broad/w');
      const { taskId } = await h.taskWith(w, ['rec-api']);
      const before = (await h.events('revocation.requested')).length;
      const broad: [string, RevocationSelector][] = [
        ['empty', {}],
        ['trust domain', { trustDomain: 'taskpass.local' }],
        ['trust domain root prefix', { spiffeIdPrefix: 'spiffe://taskpass.local' }],
        ['glob **', { spiffeIdGlob: 'spiffe://taskpass.local/**' }],
        ['glob of wildcards', { spiffeIdGlob: 'spiffe://taskpass.local/*/*' }],
        ['provider alone', { provider: 'rec-api' }],
        ['time alone', { startedBefore: h.clock.now() }],
      ];
      for (const [name, selector] of broad) {
        assert.equal(
          await codeOf(revoke({ kind: 'selector', selector })),
          'BROKER_REVOCATION_CONFIRM_REQUIRED',
          name,
        );
      }
      assert.equal(await status(taskId), 'active');
      assert.equal((await h.events('revocation.requested')).length, before);
      const confirmed = await revoke({
        kind: 'selector',
        selector: { spiffeIdGlob: 'spiffe://taskpass.local/broad/**' },
      });
      assert.deepEqual(confirmed.tasks, [taskId], 'a glob with a literal segment needs no confirmation');
    });

    it('refuses every operator action to a caller without the operator role, changing nothing', async () => {
      const w = h.caller('/agents/not-operator');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api']);
      const s = h.engine.service;
      const reason = 'x';
      const cases: [string, () => Promise<unknown>][] = [
        ['revoke task', () => s.revoke(w, { target: { kind: 'task', taskId }, reason })],
        [
          'revoke credential',
          () => s.revoke(w, { target: { kind: 'credential', credentialId: credentials[0]! }, reason }),
        ],
        ['revoke workload', () => s.revoke(w, { target: { kind: 'workload', workload: w.id }, reason })],
        [
          'revoke selector',
          () => s.revoke(w, { target: { kind: 'selector', selector: {} }, reason, confirm: true }),
        ],
        ['quarantine', () => s.quarantine(w, { workload: w.id, reason })],
        ['lift', () => s.lift(w, { workload: w.id, reason })],
        ['list quarantines', () => s.quarantines(w)],
        ['list credentials', () => s.credentials(w, {})],
        ['retry', () => s.retryFailed(w, {})],
      ];
      for (const [name, call] of cases) assert.equal(await codeOf(call()), 'BROKER_POLICY_DENIED', name);
      assert.equal(await status(taskId), 'active');
      assert.equal(await h.revocationStore.isQuarantined(w.id), false);
    });

    it('refuses a reason that is empty or too long', async () => {
      const { taskId } = await h.taskWith(h.caller('/agents/reason'), []);
      for (const reason of ['', '   ', 'x'.repeat(1025)]) {
        assert.equal(
          await codeOf(h.engine.service.revoke(h.operator, { target: { kind: 'task', taskId }, reason })),
          'BROKER_INPUT_INVALID',
        );
      }
      assert.equal(await status(taskId), 'active');
    });

    it('lists credentials for operators with their revocation state, newest first, page by page', async () => {
      const w = h.caller('/agents/listing');
      const { taskId, credentials } = await h.taskWith(w, ['rec-api', 'eo-api', 'crm-api']);
      await revoke({ kind: 'credential', credentialId: credentials[0]! });
      const first = await h.engine.service.credentials(h.operator, { taskId, limit: 2 });
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      const second = await h.engine.service.credentials(h.operator, { taskId, cursor: first.nextCursor! });
      const all = [...first.items, ...second.items];
      assert.deepEqual(all.map((c) => c.id).sort(), [...credentials].sort());
      const rec = all.find((c) => c.id === credentials[0]);
      assert.equal(rec?.status, 'revoked');
      assert.ok(rec?.revokedAt instanceof Date);
      assert.equal(rec?.revocation?.outcome, 'revoked');
      assert.ok(!('revocationHandle' in (rec ?? {})) && !('secretHash' in (rec ?? {})), 'no handle or hash');
      const revoked = await h.engine.service.credentials(h.operator, {
        status: 'revoked',
        provider: 'rec-api',
      });
      assert.ok(revoked.items.every((c) => c.status === 'revoked' && c.provider === 'rec-api'));
      assert.equal(
        await codeOf(h.engine.service.credentials(h.operator, { cursor: 'bogus' })),
        'BROKER_LEDGER_BAD_CURSOR',
      );
    });

    it('records who acted for an anomaly response (revokeFor), without a role', async () => {
      const w = h.caller('/agents/anomaly');
      const { taskId } = await h.taskWith(w, ['rec-api']);
      const result = await h.engine.service.revokeFor('signal:7', {
        target: { kind: 'task', taskId },
        reason: 'burst',
      });
      const [event] = await h.events('task.revoked', { taskId });
      assert.equal(event?.details['by'], 'signal:7');
      assert.equal(event?.details['revocation_id'], result.revocationId);
      assert.equal(SpiffeId.parse(w.id.toString()).equals(event!.workload!), true);
    });
  });
}
