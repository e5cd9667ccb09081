// The operator's revocation commands against a real in-process broker: revoke by task, credential,
// workload and selector; quarantine and lift; list credentials; retry failed revocations.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCliCaptured } from '../../support/run-cli.js';
import { AGENT, DEV_WORKLOAD, startTestBroker, type TestBroker } from '../../support/running-broker.js';

interface Revocation {
  revocation_id: string;
  tasks: string[];
  credentials: { id: string; task_id: string; provider: string; outcome: string; expires_at: string }[];
  counts: { revoked: number; pending: number; not_revocable: number };
  exposed_until: string | null;
}

describe('taskpass revoke / quarantine / credentials ls against a real broker', { timeout: 180_000 }, () => {
  let t: TestBroker;
  let operator: string[];
  let agent: string[];

  async function run(args: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
    const res = await runCliCaptured([...args, '--json']);
    return { code: res.code, out: JSON.parse(res.stdout || '{}') as Record<string, unknown> };
  }

  async function json<T>(args: string[]): Promise<T> {
    const res = await runCliCaptured([...args, '--json']);
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
    return JSON.parse(res.stdout) as T;
  }

  /** Starts a task as `who` and issues it one crm-api credential; returns both ids. */
  async function taskWithCredential(who: string[]): Promise<{ task: string; credential: string }> {
    const task = await json<{ id: string }>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...who,
    ]);
    const issued = await json<{ credential: { id: string } }>([
      'credential',
      'issue',
      '--task',
      task.id,
      '--provider',
      'crm-api',
      '--scope',
      'crm:read',
      ...who,
    ]);
    return { task: task.id, credential: issued.credential.id };
  }

  before(async () => {
    t = await startTestBroker();
    operator = ['--broker', t.url, '--jwt-svid', await t.jwt(DEV_WORKLOAD)];
    agent = ['--broker', t.url, '--jwt-svid', await t.jwt(AGENT)];
  });
  after(() => t.stop());

  it('revokes a task: the task ends, its credential is revoked at the backend, the ledger says why', async () => {
    const { task, credential } = await taskWithCredential(operator);
    const result = await json<Revocation>([
      'revoke',
      '--task',
      task,
      '--reason',
      'prompt injection suspected',
      ...operator,
    ]);
    assert.deepEqual(result.tasks, [task]);
    assert.deepEqual(
      result.credentials.map((c) => [c.id, c.outcome]),
      [[credential, 'revoked']],
    );
    assert.equal(result.counts.revoked, 1);
    assert.equal(result.exposed_until, null);
    assert.equal((await json<{ status: string }>(['task', 'show', task, ...operator])).status, 'revoked');
    const listed = await json<{ credentials: { id: string; status: string }[] }>([
      'credentials',
      'ls',
      '--task',
      task,
      ...operator,
    ]);
    assert.deepEqual(
      listed.credentials.map((c) => [c.id, c.status]),
      [[credential, 'revoked']],
    );
    const revokedOnly = await json<{ credentials: { status: string }[] }>([
      'credentials',
      'ls',
      '--status',
      'revoked',
      '--provider',
      'crm-api',
      ...operator,
    ]);
    assert.ok(
      revokedOnly.credentials.length > 0 && revokedOnly.credentials.every((c) => c.status === 'revoked'),
    );
    const events = await json<{ events: { type: string }[] }>([
      'audit',
      'query',
      '--task',
      task,
      ...operator,
    ]);
    assert.ok(events.events.some((e) => e.type === 'task.revoked'));
  });

  it('revokes one credential, leaving its task active', async () => {
    const { task, credential } = await taskWithCredential(operator);
    const result = await json<Revocation>([
      'revoke',
      '--credential',
      credential,
      '--reason',
      'leaked',
      ...operator,
    ]);
    assert.deepEqual(
      result.credentials.map((c) => c.id),
      [credential],
    );
    assert.equal((await json<{ status: string }>(['task', 'show', task, ...operator])).status, 'active');
  });

  it('revokes every task of a workload, and tasks matching a selector', async () => {
    const first = await taskWithCredential(agent);
    const byWorkload = await json<Revocation>([
      'revoke',
      '--workload',
      AGENT,
      '--reason',
      'compromised',
      ...operator,
    ]);
    assert.ok(byWorkload.tasks.includes(first.task));
    const second = await taskWithCredential(agent);
    const bySelector = await json<Revocation>([
      'revoke',
      '--selector',
      'prefix=spiffe://taskpass.local/agents,provider=crm-api',
      '--reason',
      'rotate the agents',
      ...operator,
    ]);
    assert.deepEqual(bySelector.tasks, [second.task]);
  });

  it('asks for --yes before revoking a whole trust domain', async () => {
    await taskWithCredential(operator);
    const refused = await run([
      'revoke',
      '--selector',
      'trust_domain=taskpass.local',
      '--reason',
      'incident',
      ...operator,
    ]);
    assert.equal(refused.code, 2);
    assert.equal((refused.out['error'] as { code: string }).code, 'BROKER_REVOCATION_CONFIRM_REQUIRED');
    const confirmed = await json<Revocation>([
      'revoke',
      '--selector',
      'trust_domain=taskpass.local',
      '--reason',
      'incident',
      '--yes',
      ...operator,
    ]);
    assert.ok(confirmed.tasks.length > 0);
  });

  it('quarantines a workload until the quarantine is lifted', async () => {
    const { task } = await taskWithCredential(agent);
    const q = await json<{ workload: string; by: string; revocation: Revocation }>([
      'quarantine',
      AGENT,
      '--reason',
      'exfiltration attempt',
      ...operator,
    ]);
    assert.equal(q.workload, AGENT);
    assert.equal(q.by, DEV_WORKLOAD);
    assert.deepEqual(q.revocation.tasks, [task]);
    const listed = await json<{ quarantines: { workload: string }[] }>(['quarantines', 'ls', ...operator]);
    assert.deepEqual(
      listed.quarantines.map((x) => x.workload),
      [AGENT],
    );
    const table = await runCliCaptured(['quarantines', 'ls', ...operator]);
    assert.match(table.stdout, /^WORKLOAD +SINCE +BY +REASON\n/);
    const blocked = await run([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...agent,
    ]);
    assert.equal((blocked.out['error'] as { code: string }).code, 'BROKER_WORKLOAD_QUARANTINED');
    assert.equal(blocked.code, 1);

    const lifted = await json<{ workload: string; lifted: boolean }>([
      'quarantine',
      AGENT,
      '--lift',
      '--reason',
      'cleaned up',
      ...operator,
    ]);
    assert.deepEqual(lifted, { workload: AGENT, lifted: true });
    assert.deepEqual(
      (await json<{ quarantines: unknown[] }>(['quarantines', 'ls', ...operator])).quarantines,
      [],
    );
    await taskWithCredential(agent);
    const again = await run(['quarantine', AGENT, '--lift', '--reason', 'twice', ...operator]);
    assert.equal((again.out['error'] as { code: string }).code, 'BROKER_QUARANTINE_NOT_FOUND');
  });

  it('requeues revoke_failed credentials with --retry-failed', async () => {
    assert.deepEqual(await json(['revoke', '--retry-failed', ...operator]), { requeued: 0 });
    const { credential } = await taskWithCredential(operator);
    const one = await json<{ requeued: number }>([
      'revoke',
      '--retry-failed',
      '--credential',
      credential,
      ...operator,
    ]);
    assert.equal(one.requeued, 0, 'an active credential is not revoke_failed');
  });

  it('refuses every operator command to a workload that is not an operator', async () => {
    const { task } = await taskWithCredential(agent);
    for (const args of [
      ['revoke', '--task', task, '--reason', 'x'],
      ['revoke', '--retry-failed'],
      ['quarantine', DEV_WORKLOAD, '--reason', 'x'],
      ['quarantines', 'ls'],
      ['credentials', 'ls'],
    ]) {
      const refused = await run([...args, ...agent]);
      assert.equal((refused.out['error'] as { code: string }).code, 'BROKER_POLICY_DENIED', args.join(' '));
      assert.equal(refused.code, 1);
    }
    assert.equal((await json<{ status: string }>(['task', 'show', task, ...agent])).status, 'active');
  });
});
