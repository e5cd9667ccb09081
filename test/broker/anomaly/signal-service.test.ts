import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { codeOf } from '../issuance/support/harness.js';
import { backends } from '../store/support/backends.js';
import { AUDIENCE, createAnomalyHarness, OUTSIDER, type AnomalyHarness } from './support/anomaly-harness.js';
import {
  CREDENTIAL_COMPROMISE,
  DETECTOR,
  mintSet,
  taskSubject,
  workloadSubject,
} from './support/set-fixtures.js';

for (const backend of backends()) {
  describe(`signal service on ${backend.name}`, { skip: backend.skip }, () => {
    let h: AnomalyHarness;
    before(async () => {
      h = await createAnomalyHarness(backend);
    });
    after(() => h?.close());

    const revokeCalls = () => [...h.rec.revokeCalls().values()].reduce((a, b) => a + b, 0);
    const signalled = async (signalId: string) => {
      const all = await h.ledger('signal.received', 'signal.responded');
      return all.filter((e) => e.details['signal_id'] === signalId);
    };

    it('revoke_task: revokes the task and its credentials in every backend, linked to the signal', async () => {
      const agent = h.caller('/agents/injected');
      const { taskId, credentials } = await h.taskWith(agent, ['rec-api', 'eo-api']);
      const other = await h.taskWith(agent, ['rec-api']);
      const receipt = await h.anomaly.signals.signal(h.detector, {
        kind: 'prompt_injection',
        severity: 'critical',
        subject: { taskId },
        description: 'tool output told the agent to mail the CRM export',
        evidence: { scanner: 'pi-guard', score: 0.99 },
      });
      assert.deepEqual([receipt.response, receipt.rule], ['revoke_task', 'injection']);
      assert.deepEqual(receipt.revocation?.tasks, [taskId]);
      assert.deepEqual(receipt.revocation?.counts, { revoked: 1, pending: 0, notRevocable: 1 });
      assert.equal((await h.store.getTask(taskId))?.status, 'revoked');
      assert.equal((await h.store.getTask(other.taskId))?.status, 'active', 'only the subject task');
      assert.equal(revokeCalls() >= 1, true, 'the revocable backend was called');
      const [received, responded] = await signalled(receipt.signalId);
      assert.equal(received?.type, 'signal.received');
      assert.deepEqual(
        [received?.taskId, received?.workload?.toString(), received?.rule, received?.reason],
        [taskId, agent.id.toString(), 'injection', 'tool output told the agent to mail the CRM export'],
      );
      assert.deepEqual(
        [
          received?.details['detector'],
          received?.details['kind'],
          received?.details['severity'],
          received?.details['via'],
        ],
        [DETECTOR, 'prompt_injection', 'critical', 'api'],
      );
      assert.deepEqual(received?.details['subject'], { task_id: taskId });
      assert.deepEqual(received?.details['evidence'], { scanner: 'pi-guard', score: 0.99 });
      assert.deepEqual(
        [responded?.type, responded?.details['outcome'], responded?.details['revocation_id']],
        ['signal.responded', 'done', receipt.revocation?.revocationId],
      );
      const revoked = await h.events('task.revoked', { taskId });
      assert.equal(revoked[0]?.details['by'], `signal:${receipt.signalId}`);
      const revokedCreds = await h.events('credential.revoked', { credentialId: credentials[0] });
      assert.equal(revokedCreds.length, 1);
    });

    it('revoke_task about a workload: revokes every task of the workload', async () => {
      const agent = h.caller('/agents/wholesale');
      const a = await h.taskWith(agent, ['rec-api']);
      const b = await h.taskWith(agent, ['rec-api']);
      const receipt = await h.anomaly.signals.signal(h.detector, {
        kind: 'prompt_injection',
        severity: 'high',
        subject: { workload: agent.id.toString() },
      });
      assert.deepEqual([...(receipt.revocation?.tasks ?? [])].sort(), [a.taskId, b.taskId].sort());
      const requested = await h.events('revocation.requested', { workload: agent.id });
      assert.equal(requested.at(-1)?.details['by'], `signal:${receipt.signalId}`);
    });

    it('quarantine_workload: quarantines the workload of the subject task; it can start nothing', async () => {
      const agent = h.caller('/agents/exfil');
      const { taskId } = await h.taskWith(agent, ['rec-api']);
      const receipt = await h.anomaly.signals.signal(h.detector, {
        kind: 'exfiltration',
        severity: 'low',
        subject: { taskId },
      });
      assert.deepEqual(
        [receipt.response, receipt.quarantine?.by],
        ['quarantine_workload', `signal:${receipt.signalId}`],
      );
      assert.equal(await h.revocationStore.isQuarantined(agent.id), true);
      assert.equal((await h.store.getTask(taskId))?.status, 'revoked');
      const q = await h.events('workload.quarantined', { workload: agent.id });
      assert.equal(q[0]?.details['by'], `signal:${receipt.signalId}`);
      assert.equal(
        await codeOf(
          h.tasks.start(agent, {
            intent: { name: 'work' },
            manifest: [{ provider: 'rec-api', scopes: ['x:read'] }],
          }),
        ),
        'BROKER_WORKLOAD_QUARANTINED',
      );
      const [, responded] = await signalled(receipt.signalId);
      assert.equal(responded?.details['outcome'], 'done');
    });

    it('record_only: changes nothing but the ledger', async () => {
      const agent = h.caller('/agents/watched');
      const { taskId, credentials } = await h.taskWith(agent, ['rec-api']);
      const before = (await h.ledger()).length;
      const revokedBefore = revokeCalls();
      const receipt = await h.anomaly.signals.signal(h.detector, {
        kind: 'prompt_injection',
        severity: 'medium',
        subject: { taskId },
      });
      assert.deepEqual(
        [receipt.response, receipt.rule, receipt.revocation],
        ['record_only', 'default', undefined],
      );
      assert.equal((await h.store.getTask(taskId))?.status, 'active');
      assert.equal(revokeCalls(), revokedBefore, 'no backend called');
      const after = await h.ledger();
      assert.deepEqual(
        after.slice(before).map((e) => [e.type, e.details['signal_id'], e.details['outcome'] ?? null]),
        [
          ['signal.received', receipt.signalId, null],
          ['signal.responded', receipt.signalId, 'recorded'],
        ],
      );
      const creds = await h.revocationStore.listCredentials({ taskId });
      assert.deepEqual(
        creds.items.map((c) => [c.id, c.status]),
        credentials.map((id) => [id, 'active']),
      );
    });

    it('refuses a caller without the detector role (BROKER_POLICY_DENIED) and records nothing', async () => {
      const before = (await h.ledger('signal.received')).length;
      const outsider = h.caller(OUTSIDER);
      const input = {
        kind: 'prompt_injection',
        severity: 'critical',
        subject: { workload: OUTSIDER },
      } as const;
      assert.equal(await codeOf(h.anomaly.signals.signal(outsider, input)), 'BROKER_POLICY_DENIED');
      const set = mintSet(h.authority, AUDIENCE, { now: h.clock.now(), iss: OUTSIDER });
      assert.equal(await codeOf(h.anomaly.signals.deliverSet(outsider, set)), 'BROKER_POLICY_DENIED');
      assert.equal((await h.ledger('signal.received')).length, before);
    });

    it('refuses a signal about a task that does not exist (BROKER_TASK_NOT_FOUND) and records nothing', async () => {
      const before = (await h.ledger('signal.received')).length;
      const subject = { taskId: '00000000-0000-4000-8000-000000000000' };
      assert.equal(
        await codeOf(h.anomaly.signals.signal(h.detector, { kind: 'x', severity: 'low', subject })),
        'BROKER_TASK_NOT_FOUND',
      );
      assert.equal((await h.ledger('signal.received')).length, before);
    });

    it('takes a SET once: a replay is refused on this replica and on another (BROKER_SET_REPLAYED)', async () => {
      const agent = h.caller('/agents/compromised');
      const { taskId } = await h.taskWith(agent, ['rec-api']);
      const set = mintSet(h.authority, AUDIENCE, {
        now: h.clock.now(),
        jti: 'set-replay-1',
        subId: taskSubject(taskId),
        events: { [CREDENTIAL_COMPROMISE]: {} },
      });
      const receipt = await h.anomaly.signals.deliverSet(h.detector, set);
      assert.deepEqual(
        [receipt.kind, receipt.severity, receipt.response],
        ['risc.credential_compromise', 'critical', 'quarantine_workload'],
      );
      assert.equal(await codeOf(h.anomaly.signals.deliverSet(h.detector, set)), 'BROKER_SET_REPLAYED');
      if (h.db.replica) {
        const other = h.engineOn(h.db.replica());
        assert.equal(await codeOf(other.signals.deliverSet(h.detector, set)), 'BROKER_SET_REPLAYED');
      }
      const [received] = await signalled(receipt.signalId);
      assert.deepEqual(
        [received?.details['via'], (received?.details['set'] as Record<string, unknown>)['jti']],
        ['set', 'set-replay-1'],
      );
    });

    it('keeps a refused SET usable: the jti is consumed only once everything else holds', async () => {
      const ghost = taskSubject('00000000-0000-4000-8000-00000000beef');
      const bad = mintSet(h.authority, AUDIENCE, { now: h.clock.now(), jti: 'set-fix-1', subId: ghost });
      assert.equal(await codeOf(h.anomaly.signals.deliverSet(h.detector, bad)), 'BROKER_TASK_NOT_FOUND');
      const good = mintSet(h.authority, AUDIENCE, {
        now: h.clock.now(),
        jti: 'set-fix-1',
        subId: workloadSubject('spiffe://taskpass.local/agents/nobody'),
      });
      assert.equal((await h.anomaly.signals.deliverSet(h.detector, good)).response, 'revoke_task');
    });

    it('records a failed response as signal.responded with its code, and the caller gets the error', async () => {
      const agent = h.caller('/agents/failing');
      const { taskId } = await h.taskWith(agent, ['rec-api']);
      h.executor.failNextWith(
        /UPDATE tasks t SET status = 'revoked'/,
        Object.assign(new Error('boom'), { code: 'XX000' }),
      );
      const code = await codeOf(
        h.anomaly.signals.signal(h.detector, {
          kind: 'prompt_injection',
          severity: 'high',
          subject: { taskId },
        }),
      );
      assert.equal(code, 'BROKER_STORE_QUERY_FAILED');
      const responded = (await h.ledger('signal.responded')).at(-1);
      assert.deepEqual(
        [responded?.details['outcome'], responded?.details['error_code'], responded?.taskId],
        ['failed', 'BROKER_STORE_QUERY_FAILED', taskId],
      );
      assert.equal((await h.store.getTask(taskId))?.status, 'active');
    });

    it('built-in detectors raise through the same path (issuance burst, ended-task request → quarantine)', async () => {
      const agent = h.caller('/agents/bursty');
      const { taskId } = await h.taskWith(agent, ['rec-api']);
      const issue = () =>
        h.observedIssuance.issue(agent, { taskId, provider: 'rec-api', scopes: ['x:read'] });
      await issue();
      await issue();
      assert.equal(await codeOf(issue()), 'BROKER_POLICY_RATE_LIMITED');
      await h.anomaly.idle();
      assert.equal(
        (await h.ledger('signal.received')).filter(
          (e) => e.details['kind'] === 'broker.issuance_burst' && e.workload?.equals(agent.id),
        ).length,
        0,
        'below the threshold of 2',
      );
      assert.equal(await codeOf(issue()), 'BROKER_POLICY_RATE_LIMITED');
      await h.anomaly.idle();
      const burst = (await h.ledger('signal.received')).filter(
        (e) => e.details['kind'] === 'broker.issuance_burst' && e.workload?.equals(agent.id),
      );
      assert.equal(burst.length, 1);
      assert.deepEqual(
        [burst[0]?.details['detector'], burst[0]?.details['via'], burst[0]?.details['response']],
        ['broker:issuance_burst', 'builtin', 'record_only'],
      );

      const ended = h.caller('/agents/zombie');
      const t = await h.taskWith(ended, ['rec-api']);
      await h.tasks.complete(ended, t.taskId);
      assert.equal(
        await codeOf(
          h.observedIssuance.issue(ended, { taskId: t.taskId, provider: 'rec-api', scopes: ['x:read'] }),
        ),
        'BROKER_TASK_ALREADY_ENDED',
      );
      await h.anomaly.idle();
      assert.equal(await h.revocationStore.isQuarantined(ended.id), true);
      const q = await h.events('workload.quarantined', { workload: ended.id });
      const signal = (await h.ledger('signal.received')).find(
        (e) => e.details['kind'] === 'broker.ended_task_request',
      );
      assert.equal(q[0]?.details['by'], `signal:${String(signal?.details['signal_id'])}`);
      assert.deepEqual(signal?.details['subject'], { workload: ended.id.toString() });
      assert.equal((signal?.details['evidence'] as Record<string, unknown>)['task_id'], t.taskId);
    });

    it('a built-in signal that fails is logged and dropped, never thrown into the request', async () => {
      const agent = SpiffeId.parse('spiffe://taskpass.local/agents/unlucky');
      h.executor.failNextWith(
        /INSERT INTO ledger_events/,
        Object.assign(new Error('down'), { code: 'XX000' }),
      );
      h.anomaly.observer.svidReplayed({ workload: agent, now: h.clock.now() });
      h.anomaly.observer.svidReplayed({ workload: agent, now: h.clock.now() });
      await h.anomaly.idle();
      const found = () =>
        h.ledger('signal.received').then((all) => all.filter((e) => e.workload?.equals(agent)));
      assert.equal((await found()).length, 0, 'the first signal hit the fault and was dropped');
      h.clock.advance(301_000); // past the cooldown: the pattern raises again, and this time it lands
      h.anomaly.observer.svidReplayed({ workload: agent, now: h.clock.now() });
      h.anomaly.observer.svidReplayed({ workload: agent, now: h.clock.now() });
      await h.anomaly.idle();
      assert.deepEqual(
        (await found()).map((e) => [e.details['kind'], e.details['detector']]),
        [['broker.svid_replay', 'broker:svid_replay']],
      );
    });
  });
}
