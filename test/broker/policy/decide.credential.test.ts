import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeCredential, denialError, type CredentialRequest } from '../../../broker/policy/decide.js';
import type { Task } from '../../../broker/domain/task.js';
import { BROKER_ERROR_CODES } from '../../../broker/errors.js';
import { baseDocument, baseRule, id, policyOf } from './policy-fixtures.js';

const NOW = new Date('2025-01-01T00:00:00Z');
const at = (s: number): Date => new Date(NOW.getTime() + s * 1000);
const AGENT = id('spiffe://taskpass.local/agents/a');

const policy = policyOf(
  baseDocument([
    baseRule({
      providers: {
        'crm-api': { scopes: ['crm:read', 'crm:write'] },
        'vault-kv': { scopes: ['kv:*'], max_ttl: '1m' },
      },
      quotas: { credentials_per_task: 3, issuance_rate: { per_second: 2, burst: 5 } },
    }),
  ]),
);

function task(over: Partial<Task> = {}): Task {
  return {
    id: 't-1',
    workload: AGENT,
    intent: { name: 'summarize-ticket', text: 'ticket 123' },
    manifest: [
      { provider: 'crm-api', scopes: ['crm:read', 'crm:delete'] },
      { provider: 'vault-kv', scopes: ['kv:a'] },
    ],
    createdAt: at(-60),
    deadline: at(1800),
    parent: null,
    status: 'active',
    ...over,
  };
}

const request = (over: Partial<CredentialRequest> = {}): CredentialRequest => ({
  provider: 'crm-api',
  scopes: ['crm:read'],
  issuedForTask: 0,
  svidExpiresAt: at(3600),
  now: NOW,
  ...over,
});

describe('authorizeCredential', () => {
  it('grants scopes within both the manifest and the policy, with the policy TTL', () => {
    const d = authorizeCredential(policy, AGENT, task(), request());
    assert.ok(d.allowed);
    assert.deepEqual([d.rule, d.provider, d.scopes], ['agents', 'crm-api', ['crm:read']]);
    assert.deepEqual([d.ttl.ttlSeconds, d.ttl.boundBy], [300, ['policy']]);
    assert.deepEqual(d.issuanceRate, { perSecond: 2, burst: 5 });
    assert.match(d.explanation, /rule agents .* ttl 300s bounded by policy/);
  });

  it('uses the manifest scopes for the provider when none are requested', () => {
    const d = authorizeCredential(
      policy,
      AGENT,
      task({ manifest: [{ provider: 'crm-api', scopes: ['crm:write'] }] }),
      request({ scopes: [] }),
    );
    assert.ok(d.allowed);
    assert.deepEqual(d.scopes, ['crm:write']);
  });

  const ttlRows: Array<{
    name: string;
    req: Partial<CredentialRequest>;
    t?: Partial<Task>;
    ttl: number;
    by: string[];
  }> = [
    { name: 'the request', req: { ttlSeconds: 30 }, ttl: 30, by: ['requested'] },
    { name: 'the rule maximum', req: { ttlSeconds: 3000 }, ttl: 300, by: ['policy'] },
    {
      name: 'the provider maximum',
      req: { provider: 'vault-kv', scopes: ['kv:a'] },
      ttl: 60,
      by: ['policy'],
    },
    { name: 'the task deadline', req: {}, t: { deadline: at(90) }, ttl: 90, by: ['task'] },
    { name: 'the svid expiry', req: { svidExpiresAt: at(20) }, ttl: 20, by: ['svid'] },
  ];
  for (const row of ttlRows) {
    it(`caps the TTL by ${row.name}`, () => {
      const d = authorizeCredential(policy, AGENT, task(row.t), request(row.req));
      assert.ok(d.allowed);
      assert.deepEqual([d.ttl.ttlSeconds, d.ttl.boundBy], [row.ttl, row.by]);
    });
  }

  const denials: Array<{
    name: string;
    req?: Partial<CredentialRequest>;
    t?: Partial<Task>;
    workload?: string;
    policyDoc?: Record<string, unknown>;
    code: string;
    why: string;
  }> = [
    {
      name: "another workload's task",
      workload: 'spiffe://taskpass.local/agents/b',
      code: 'BROKER_TASK_NOT_FOUND',
      why: 'task',
    },
    { name: 'a completed task', t: { status: 'completed' }, code: 'BROKER_TASK_ALREADY_ENDED', why: 'task' },
    { name: 'an overdue task', t: { deadline: at(-1) }, code: 'BROKER_TASK_ALREADY_ENDED', why: 'task' },
    {
      name: 'a provider the manifest does not declare',
      t: { manifest: [{ provider: 'vault-kv', scopes: ['kv:a'] }] },
      code: 'BROKER_POLICY_DENIED',
      why: 'scope_manifest',
    },
    {
      name: 'a scope outside the manifest (though the policy grants it)',
      req: { scopes: ['crm:write'] },
      code: 'BROKER_POLICY_DENIED',
      why: 'scope_manifest',
    },
    {
      name: 'a scope outside the policy (though the manifest declares it)',
      req: { scopes: ['crm:delete'] },
      code: 'BROKER_POLICY_DENIED',
      why: 'scope_policy',
    },
    {
      name: 'a malformed scope',
      req: { scopes: ['crm read'] },
      code: 'BROKER_INPUT_INVALID',
      why: 'bad_request',
    },
    {
      name: 'the credentials-per-task quota used up',
      req: { issuedForTask: 3 },
      code: 'BROKER_POLICY_QUOTA_EXCEEDED',
      why: 'quota',
    },
    {
      name: 'an expired svid',
      req: { svidExpiresAt: at(-1) },
      code: 'BROKER_ISSUANCE_SVID_EXPIRED',
      why: 'ttl',
    },
    {
      name: 'less than a second of svid left',
      req: { svidExpiresAt: new Date(NOW.getTime() + 400) },
      code: 'BROKER_ISSUANCE_TTL_TOO_SHORT',
      why: 'ttl',
    },
    {
      name: 'a bad requested ttl',
      req: { ttlSeconds: -1 },
      code: 'BROKER_INPUT_INVALID',
      why: 'bad_request',
    },
    {
      name: 'a policy reloaded without the rule',
      policyDoc: baseDocument([baseRule({ match: { id: 'spiffe://taskpass.local/someone-else' } })]),
      code: 'BROKER_POLICY_DENIED',
      why: 'no_rule',
    },
    {
      name: 'a policy reloaded without the task intent',
      policyDoc: baseDocument([baseRule({ intents: ['other'] })]),
      code: 'BROKER_POLICY_DENIED',
      why: 'intent',
    },
  ];
  for (const row of denials) {
    it(`denies ${row.name} with ${row.code}`, () => {
      const p = row.policyDoc ? policyOf(row.policyDoc) : policy;
      const workload = row.workload ? id(row.workload) : AGENT;
      const d = authorizeCredential(p, workload, task(row.t), request(row.req));
      assert.equal(d.allowed, false);
      if (d.allowed) return;
      assert.deepEqual([d.code, d.why], [row.code, row.why]);
      assert.ok(d.reason.length > 0);
    });
  }

  it("answers another workload's task exactly like a missing one", () => {
    const d = authorizeCredential(policy, id('spiffe://taskpass.local/agents/b'), task(), request());
    assert.ok(!d.allowed);
    const missing = denialError({ ...d, reason: 'no such task' });
    assert.deepEqual([denialError(d).code, denialError(d).message], [missing.code, missing.message]);
    assert.equal(denialError(d).message, BROKER_ERROR_CODES.BROKER_TASK_NOT_FOUND.message);
  });
});
