import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeTask, denialError, type TaskRequest } from '../../../broker/policy/decide.js';
import { findRule } from '../../../broker/policy/match-rule.js';
import { BROKER_ERROR_CODES } from '../../../broker/errors.js';
import { baseDocument, baseRule, id, policyOf } from './policy-fixtures.js';

const request = (over: Partial<TaskRequest> = {}): TaskRequest => ({
  intent: 'summarize-ticket',
  manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
  activeTasks: 0,
  ...over,
});

const policy = policyOf(
  baseDocument([
    baseRule({ name: 'exact', match: { id: 'spiffe://td.test/ops/special' }, intents: ['rotate-keys'] }),
    baseRule({ name: 'prefix', match: { prefix: 'spiffe://td.test/ops' }, max_task_lifetime: '10m' }),
    baseRule({
      name: 'glob',
      match: { glob: 'spiffe://td.test/agents/*/worker' },
      quotas: { active_tasks: 2 },
    }),
    baseRule({
      name: 'domain',
      match: { trust_domain: 'partner.test' },
      providers: { 'crm-api': { scopes: ['crm:read'] }, 'vault-kv': { scopes: ['kv:team/*'] } },
    }),
  ]),
);

describe('findRule: each matcher kind, first match in file order', () => {
  const rows: Array<[string, string | undefined]> = [
    ['spiffe://td.test/ops/special', 'exact'],
    ['spiffe://td.test/ops/special/child', 'prefix'],
    ['spiffe://td.test/ops', 'prefix'],
    ['spiffe://td.test/opsx', undefined],
    ['spiffe://td.test/agents/a1/worker', 'glob'],
    ['spiffe://td.test/agents/a1/b/worker', undefined],
    ['spiffe://partner.test/anything/at/all', 'domain'],
    ['spiffe://other.test/ops', undefined],
  ];
  for (const [workload, rule] of rows) {
    it(`${workload} -> ${rule ?? 'no rule'}`, () => {
      assert.equal(findRule(policy, id(workload))?.rule.name, rule);
    });
  }

  it('does not fall through: the first matching rule decides even when a later one would allow', () => {
    // `exact` matches first and only allows rotate-keys; `prefix` would allow summarize-ticket.
    const d = authorizeTask(policy, id('spiffe://td.test/ops/special'), request());
    assert.equal(d.allowed, false);
    assert.equal(!d.allowed && d.why, 'intent');
    assert.equal(!d.allowed && d.rule, 'exact');
  });
});

describe('authorizeTask', () => {
  it('allows a granted intent and manifest, naming the rule and matcher', () => {
    const d = authorizeTask(policy, id('spiffe://td.test/agents/a1/worker'), request());
    assert.ok(d.allowed);
    assert.equal(d.rule, 'glob');
    assert.equal(d.matcher, 'glob spiffe://td.test/agents/*/worker');
    assert.equal(d.lifetimeSeconds, 1800);
    assert.equal(d.approvalRequired, false);
    assert.match(d.explanation, /rule glob/);
  });

  it('caps the task lifetime at the rule maximum and says so', () => {
    const ops = id('spiffe://td.test/ops/a');
    const capped = authorizeTask(policy, ops, request({ ttlSeconds: 3600 }));
    assert.ok(capped.allowed);
    assert.deepEqual([capped.lifetimeSeconds, capped.lifetimeCapped], [600, true]);
    const shorter = authorizeTask(policy, ops, request({ ttlSeconds: 60 }));
    assert.ok(shorter.allowed);
    assert.deepEqual([shorter.lifetimeSeconds, shorter.lifetimeCapped], [60, false]);
  });

  it('accepts scopes matched by a prefix pattern', () => {
    const manifest = [{ provider: 'vault-kv', scopes: ['kv:team/a', 'kv:team/b/c'] }];
    assert.ok(authorizeTask(policy, id('spiffe://partner.test/x'), request({ manifest })).allowed);
  });

  const denials: Array<{
    name: string;
    workload: string;
    req: Partial<TaskRequest>;
    code: string;
    why: string;
    rule?: string;
  }> = [
    {
      name: 'no rule matches',
      workload: 'spiffe://other.test/x',
      req: {},
      code: 'BROKER_POLICY_DENIED',
      why: 'no_rule',
    },
    {
      name: 'the intent is not allowed',
      workload: 'spiffe://td.test/ops/a',
      req: { intent: 'delete-all' },
      code: 'BROKER_POLICY_DENIED',
      why: 'intent',
      rule: 'prefix',
    },
    {
      name: 'the provider is not granted',
      workload: 'spiffe://td.test/ops/a',
      req: { manifest: [{ provider: 'vault-kv', scopes: ['kv:x'] }] },
      code: 'BROKER_POLICY_DENIED',
      why: 'provider',
      rule: 'prefix',
    },
    {
      name: 'a scope is outside the policy',
      workload: 'spiffe://partner.test/x',
      req: { manifest: [{ provider: 'vault-kv', scopes: ['kv:team/a', 'kv:other'] }] },
      code: 'BROKER_POLICY_DENIED',
      why: 'scope_policy',
      rule: 'domain',
    },
    {
      name: 'a scope prefix pattern is not a string prefix of the scope',
      workload: 'spiffe://partner.test/x',
      req: { manifest: [{ provider: 'vault-kv', scopes: ['kv:team'] }] },
      code: 'BROKER_POLICY_DENIED',
      why: 'scope_policy',
      rule: 'domain',
    },
    {
      name: 'the manifest names a provider twice',
      workload: 'spiffe://td.test/ops/a',
      req: {
        manifest: [
          { provider: 'crm-api', scopes: ['crm:read'] },
          { provider: 'crm-api', scopes: ['crm:write'] },
        ],
      },
      code: 'BROKER_INPUT_INVALID',
      why: 'bad_request',
      rule: 'prefix',
    },
    {
      name: 'a manifest scope is malformed',
      workload: 'spiffe://td.test/ops/a',
      req: { manifest: [{ provider: 'crm-api', scopes: ['crm read'] }] },
      code: 'BROKER_INPUT_INVALID',
      why: 'bad_request',
      rule: 'prefix',
    },
    {
      name: 'the ttl is not positive',
      workload: 'spiffe://td.test/ops/a',
      req: { ttlSeconds: 0 },
      code: 'BROKER_INPUT_INVALID',
      why: 'bad_request',
      rule: 'prefix',
    },
    {
      name: 'the active-tasks quota is used up',
      workload: 'spiffe://td.test/agents/a/worker',
      req: { activeTasks: 2 },
      code: 'BROKER_POLICY_QUOTA_EXCEEDED',
      why: 'quota',
      rule: 'glob',
    },
  ];
  for (const row of denials) {
    it(`denies when ${row.name} (${row.code}, ${row.why})`, () => {
      const d = authorizeTask(policy, id(row.workload), request(row.req));
      assert.equal(d.allowed, false);
      if (d.allowed) return;
      assert.deepEqual([d.code, d.why, d.rule], [row.code, row.why, row.rule]);
      assert.ok(d.reason.length > 0);
    });
  }

  it('allows under the quota', () => {
    assert.ok(
      authorizeTask(policy, id('spiffe://td.test/agents/a/worker'), request({ activeTasks: 1 })).allowed,
    );
  });

  it('makes "no rule" and "not allowed" indistinguishable to the caller, but not to the ledger', () => {
    const noRule = authorizeTask(policy, id('spiffe://other.test/x'), request());
    const notAllowed = authorizeTask(policy, id('spiffe://td.test/ops/a'), request({ intent: 'delete-all' }));
    assert.ok(!noRule.allowed && !notAllowed.allowed);
    const [a, b] = [denialError(noRule), denialError(notAllowed)];
    assert.deepEqual([a.code, a.message], [b.code, b.message]);
    assert.notEqual(noRule.reason, notAllowed.reason);
  });

  it('gives quota errors their reason, since the caller is authorized', () => {
    const d = authorizeTask(policy, id('spiffe://td.test/agents/a/worker'), request({ activeTasks: 5 }));
    assert.ok(!d.allowed);
    assert.notEqual(denialError(d).message, BROKER_ERROR_CODES.BROKER_POLICY_QUOTA_EXCEEDED.message);
  });

  it('records approval and replay-protection flags on the grant', () => {
    const p = policyOf(
      baseDocument([baseRule({ require_approval: true, jwt_svid_replay_protection: true })]),
    );
    const d = authorizeTask(p, id('spiffe://taskpass.local/agents/a'), request());
    assert.ok(d.allowed);
    assert.deepEqual([d.approvalRequired, d.jwtSvidReplayProtection], [true, true]);
  });
});
