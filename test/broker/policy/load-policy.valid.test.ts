import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPolicyFile, parsePolicy } from '../../../broker/policy/load-policy.js';
import { DEFAULT_QUOTAS } from '../../../broker/policy/policy-types.js';
import { BrokerError } from '../../../broker/errors.js';
import { baseDocument, baseRule, id, policyOf, repositoryRoot } from './policy-fixtures.js';

describe('parsePolicy: valid files', () => {
  it('loads examples/policy.yaml, the dev default', async () => {
    const path = join(repositoryRoot(), 'examples', 'policy.yaml');
    const policy = await loadPolicyFile(path);
    const source = await readFile(path, 'utf8');
    assert.equal(policy.sha256, createHash('sha256').update(source).digest('hex'));
    assert.equal(policy.version, 1);
    assert.equal(policy.revision, 'dev-1');
    const [rule] = policy.rules;
    assert.equal(rule?.name, 'dev-agents');
    assert.deepEqual(rule?.intents, ['summarize-ticket']);
    assert.equal(rule?.maxCredentialTtlSeconds, 300);
    assert.equal(rule?.maxTaskLifetimeSeconds, 1800);
    assert.deepEqual(
      rule?.providers['crm-api']?.scopes.map((s) => s.text),
      ['crm:read', 'crm:write'],
    );
    assert.ok(rule?.match.some((m) => m.match(id('spiffe://taskpass.local/dev/workload')).ok));
    assert.ok(rule?.match.some((m) => m.match(id('spiffe://taskpass.local/agents/x')).ok));
    assert.equal(policy.roles.operator.length, 1);
    assert.equal(policy.roles.auditor.length, 1);
  });

  it('accepts the complete example of docs/policy.md', async () => {
    const doc = await readFile(join(repositoryRoot(), 'docs', 'policy.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'docs/policy.md has a yaml example');
    const policy = parsePolicy(example);
    assert.equal(policy.rules[0]?.quotas.credentialsPerTask, 50);
  });

  it('reads JSON as well as YAML', () => {
    const policy = policyOf(baseDocument());
    assert.equal(policy.rules[0]?.name, 'agents');
  });

  it('builds every matcher kind, and a single matcher mapping as a list of one', () => {
    const rules = [
      baseRule({ name: 'exact', match: { id: 'spiffe://td.test/a' } }),
      baseRule({ name: 'prefix', match: [{ prefix: 'spiffe://td.test/ns' }] }),
      baseRule({ name: 'domain', match: [{ trust_domain: 'other.test' }] }),
      baseRule({ name: 'glob', match: [{ glob: 'spiffe://td.test/**/agent' }] }),
    ];
    const policy = policyOf(baseDocument(rules));
    const described = policy.rules.map((r) => r.match.map((m) => m.describe()));
    assert.deepEqual(described, [
      ['exactly spiffe://td.test/a'],
      ['path prefix spiffe://td.test/ns'],
      ['member of trust domain other.test'],
      ['glob spiffe://td.test/**/agent'],
    ]);
  });

  it('fills default quotas and flags, and reads numeric durations as seconds', () => {
    const policy = policyOf(baseDocument([baseRule({ max_credential_ttl: 90 })]));
    const rule = policy.rules[0]!;
    assert.deepEqual(rule.quotas, DEFAULT_QUOTAS);
    assert.equal(rule.requireApproval, false);
    assert.equal(rule.jwtSvidReplayProtection, false);
    assert.equal(rule.maxCredentialTtlSeconds, 90);
  });

  it('reads quotas, flags, provider max_ttl and scope prefixes', () => {
    const rule = baseRule({
      providers: { 'crm-api': { scopes: ['crm:*'], max_ttl: '1m' } },
      quotas: { active_tasks: 2, credentials_per_task: 3, issuance_rate: { per_second: 0.5, burst: 4 } },
      require_approval: true,
      jwt_svid_replay_protection: true,
    });
    const r = policyOf(baseDocument([rule])).rules[0]!;
    assert.deepEqual(r.quotas, {
      activeTasks: 2,
      credentialsPerTask: 3,
      issuanceRate: { perSecond: 0.5, burst: 4 },
    });
    assert.deepEqual(r.providers['crm-api'], { scopes: [{ text: 'crm:', prefix: true }], maxTtlSeconds: 60 });
    assert.equal(r.requireApproval, true);
    assert.equal(r.jwtSvidReplayProtection, true);
  });

  it('accepts an empty rule list (everything denied) and no roles', () => {
    const policy = policyOf(baseDocument([]));
    assert.equal(policy.rules.length, 0);
    assert.deepEqual(policy.roles, { operator: [], auditor: [], detector: [], resource_server: [] });
  });

  it('returns a deeply frozen policy', () => {
    const policy = policyOf(baseDocument());
    const rule = policy.rules[0]!;
    assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.rules) && Object.isFrozen(rule));
    assert.ok(Object.isFrozen(rule.providers) && Object.isFrozen(rule.providers['crm-api']!.scopes));
    assert.ok(Object.isFrozen(rule.quotas) && Object.isFrozen(policy.roles));
  });

  it('hashes the exact source: a whitespace change is a new sha256', () => {
    const a = parsePolicy('version: 1\nrules: []\n');
    const b = parsePolicy('version: 1\nrules: []\n\n');
    assert.notEqual(a.sha256, b.sha256);
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
  });

  it('refuses a missing file with BROKER_POLICY_UNREADABLE', async () => {
    await assert.rejects(
      loadPolicyFile(join(repositoryRoot(), 'examples', 'no-such-policy.yaml')),
      (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_POLICY_UNREADABLE',
    );
  });
});
