import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { agentsRule, codeOf, createHarness, START, type Harness } from './support/harness.js';

describe('issuance denials: coded error, a denial event naming rule and reason, nothing issued', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  async function assertNothingIssued(taskId: string): Promise<void> {
    assert.equal(await h.store.countCredentials(taskId), 0);
    assert.equal((await h.events('credential.issued', taskId)).length, 0);
  }

  it("answers another workload's task exactly as a missing one", async () => {
    const owner = await h.caller('/agents/owner');
    const task = await h.tasks.start(owner, START);
    const stranger = await h.caller('/agents/stranger');
    const req = { taskId: task.id, provider: 'crm-api' };
    assert.equal(await codeOf(h.issuance.issue(stranger, req)), 'BROKER_TASK_NOT_FOUND');
    assert.equal(await codeOf(h.tasks.get(stranger, task.id)), 'BROKER_TASK_NOT_FOUND');
    assert.equal(await codeOf(h.tasks.complete(stranger, task.id)), 'BROKER_TASK_NOT_FOUND');
    const missing = '00000000-0000-4000-8000-000000000000';
    assert.equal(
      await codeOf(h.issuance.issue(stranger, { ...req, taskId: missing })),
      'BROKER_TASK_NOT_FOUND',
    );
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.workload?.toString(), stranger.id.toString());
    assert.equal(denial?.reason, 'task belongs to another workload');
    await assertNothingIssued(task.id);
    assert.equal((await h.tasks.get(owner, task.id)).status, 'active');
  });

  it('refuses a scope outside the task manifest, naming the rule and reason', async () => {
    const caller = await h.caller('/agents/scopes');
    const task = await h.tasks.start(caller, START);
    const code = await codeOf(
      h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api', scopes: ['crm:write'] }),
    );
    assert.equal(code, 'BROKER_POLICY_DENIED');
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.rule, 'agents');
    assert.equal(denial?.decision, 'deny');
    assert.equal(denial?.details['why'], 'scope_manifest');
    assert.match(denial?.reason ?? '', /crm:write/);
    await assertNothingIssued(task.id);
  });

  it('refuses a scope the policy no longer grants (after a reload), naming the rule and reason', async () => {
    const caller = await h.caller('/agents/reload');
    const task = await h.tasks.start(caller, START);
    h.setPolicy([
      agentsRule({ providers: { 'crm-api': { scopes: ['crm:admin'] }, 'fake-api': { scopes: ['x:*'] } } }),
    ]);
    try {
      const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' }));
      assert.equal(code, 'BROKER_POLICY_DENIED');
      const [denial] = await h.events('credential.denied', task.id);
      assert.equal(denial?.rule, 'agents');
      assert.equal(denial?.details['why'], 'scope_policy');
      await assertNothingIssued(task.id);
    } finally {
      h.setPolicy([agentsRule()]);
    }
  });

  it('refuses a task whose manifest exceeds the policy, with a task.denied event', async () => {
    const caller = await h.caller('/agents/greedy');
    const manifest = [{ provider: 'crm-api', scopes: ['crm:admin'] }];
    assert.equal(await codeOf(h.tasks.start(caller, { ...START, manifest })), 'BROKER_POLICY_DENIED');
    const denials = (await h.events('task.denied')).filter((e) => e.workload?.equals(caller.id));
    assert.equal(denials.length, 1);
    assert.equal(denials[0]?.rule, 'agents');
    assert.equal(denials[0]?.details['why'], 'scope_policy');
    assert.equal((await h.store.listTasks({ workload: caller.id })).items.length, 0);
  });

  it('refuses a caller whose SVID expired since it authenticated', async () => {
    const caller = await h.caller('/agents/short', 20);
    const task = await h.tasks.start(caller, START);
    h.clock.advance(21_000);
    const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' }));
    assert.equal(code, 'BROKER_ISSUANCE_SVID_EXPIRED');
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.details['code'], 'BROKER_ISSUANCE_SVID_EXPIRED');
    await assertNothingIssued(task.id);
  });
});

describe('issuance quotas and rate limits', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness([
      agentsRule({
        quotas: { active_tasks: 1, credentials_per_task: 1, issuance_rate: { per_second: 1, burst: 1 } },
      }),
    ]);
  });
  after(() => h.close());

  it('refuses a second active task over the quota, with a task.denied event', async () => {
    const caller = await h.caller('/agents/quota-tasks');
    await h.tasks.start(caller, START);
    assert.equal(await codeOf(h.tasks.start(caller, START)), 'BROKER_POLICY_QUOTA_EXCEEDED');
    const denials = (await h.events('task.denied')).filter((e) => e.workload?.equals(caller.id));
    assert.equal(denials[0]?.details['why'], 'quota');
    assert.equal(denials[0]?.rule, 'agents');
  });

  it('refuses a credential over the per-task quota, with a denial event', async () => {
    const caller = await h.caller('/agents/quota-creds');
    const task = await h.tasks.start(caller, START);
    await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    h.clock.advance(5_000);
    const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' }));
    assert.equal(code, 'BROKER_POLICY_QUOTA_EXCEEDED');
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.details['why'], 'quota');
    assert.equal(await h.store.countCredentials(task.id), 1);
  });

  it('rate-limits issuance per workload, with a denial event, and recovers as tokens refill', async () => {
    h.setPolicy([
      agentsRule({
        quotas: { active_tasks: 5, credentials_per_task: 10, issuance_rate: { per_second: 1, burst: 1 } },
      }),
    ]);
    const caller = await h.caller('/agents/rate');
    const task = await h.tasks.start(caller, START);
    await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    const code = await codeOf(h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' }));
    assert.equal(code, 'BROKER_POLICY_RATE_LIMITED');
    const [denial] = await h.events('credential.denied', task.id);
    assert.equal(denial?.details['why'], 'rate');
    assert.equal(denial?.rule, 'agents');
    assert.equal(await h.store.countCredentials(task.id), 1);
    h.clock.advance(1_000);
    await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
  });
});

describe('jwt-svid replay protection', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness([agentsRule({ jwt_svid_replay_protection: true })]);
  });
  after(() => h.close());

  it('accepts a JWT-SVID once and refuses it the second time when the policy flag is on', async () => {
    const svid = await h.ca.mintJwtSvid({
      id: (await h.caller('/agents/replay')).id,
      now: h.clock.now(),
      audience: ['taskpass-broker'],
    });
    await h.authenticator.authenticateBearer(svid.token);
    assert.equal(await codeOf(h.authenticator.authenticateBearer(svid.token)), 'BROKER_AUTH_INVALID');
  });
});
