import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeRole, roleOf } from '../../../broker/policy/match-rule.js';
import { baseDocument, id, policyOf } from './policy-fixtures.js';

const policy = policyOf(
  baseDocument(undefined, {
    roles: {
      operators: [{ id: 'spiffe://td.test/ops/alice' }, { prefix: 'spiffe://td.test/sre' }],
      auditors: [{ id: 'spiffe://td.test/ops/alice' }, { trust_domain: 'audit.test' }],
      detectors: [{ glob: 'spiffe://td.test/guard/*' }],
      resource_servers: [{ glob: 'spiffe://td.test/tools/*' }, { id: 'spiffe://td.test/ops/alice' }],
    },
  }),
);

describe('roleOf', () => {
  const rows: Array<[string, string[]]> = [
    ['spiffe://td.test/ops/alice', ['operator', 'auditor', 'resource_server']],
    ['spiffe://td.test/tools/crm', ['resource_server']],
    ['spiffe://td.test/sre/bob', ['operator']],
    ['spiffe://audit.test/x', ['auditor']],
    ['spiffe://td.test/guard/scanner', ['detector']],
    ['spiffe://td.test/guard/scanner/extra', []],
    ['spiffe://td.test/agents/a', []],
  ];
  for (const [caller, roles] of rows) {
    it(`gives ${caller} ${roles.length ? roles.join(' and ') : 'no role'}`, () => {
      assert.deepEqual(roleOf(policy, id(caller)), roles);
    });
  }
});

describe('authorizeRole', () => {
  it('allows a holder and names the matcher', () => {
    const d = authorizeRole(policy, id('spiffe://td.test/sre/bob'), 'operator');
    assert.deepEqual(d, { allowed: true, role: 'operator', matcher: 'path prefix spiffe://td.test/sre' });
  });

  it('denies a non-holder with the ordinary policy denial code', () => {
    const d = authorizeRole(policy, id('spiffe://td.test/agents/a'), 'auditor');
    assert.equal(d.allowed, false);
    assert.equal(!d.allowed && d.code, 'BROKER_POLICY_DENIED');
  });

  it('denies everyone a role the policy leaves empty', () => {
    const bare = policyOf(baseDocument());
    assert.equal(authorizeRole(bare, id('spiffe://td.test/ops/alice'), 'operator').allowed, false);
  });
});
