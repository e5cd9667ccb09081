import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { agentsRule, createHarness, START, type Harness } from './support/harness.js';

// DESIGN invariant 2: the TTL is the minimum of the request, the policy maximum (5m), the task's
// remaining lifetime and the caller's SVID's remaining lifetime. Each case makes one bound the smallest.
describe('credential ttl (invariant 2)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness([agentsRule({ providers: { 'crm-api': { scopes: ['crm:*'], max_ttl: '4m' } } })]);
  });
  after(() => h.close());

  const cases = [
    { name: 'the request', ttl: 60, svid: 3600, taskTtl: 1800, want: 60, bound: 'requested' },
    { name: 'the policy (provider cap)', svid: 3600, taskTtl: 1800, want: 240, bound: 'policy' },
    { name: 'the task deadline', svid: 3600, taskTtl: 90, want: 90, bound: 'task' },
    { name: 'the caller svid', svid: 45, taskTtl: 1800, want: 45, bound: 'svid' },
  ] as const;

  for (const c of cases) {
    it(`is bounded by ${c.name}`, async () => {
      const caller = await h.caller(`/agents/ttl-${c.bound}`, c.svid);
      const task = await h.tasks.start(caller, {
        ...START,
        manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
        ttlSeconds: c.taskTtl,
      });
      const issued = await h.issuance.issue(caller, {
        taskId: task.id,
        provider: 'crm-api',
        ...('ttl' in c ? { ttlSeconds: c.ttl } : {}),
      });
      assert.equal(issued.ttlSeconds, c.want);
      assert.deepEqual(issued.boundBy, [c.bound]);
      assert.equal(issued.expiresAt.getTime(), h.clock.now().getTime() + c.want * 1000);
      assert.ok(issued.expiresAt <= caller.svidExpiresAt);
      assert.ok(issued.expiresAt <= task.deadline);
      const [event] = await h.events('credential.issued', task.id);
      assert.equal(event?.details['ttl_seconds'], c.want);
      assert.match(event?.reason ?? '', new RegExp(`bounded by ${c.bound}`));
    });
  }
});
