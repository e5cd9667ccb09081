import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAwsStsConfig } from '../../../adapters/aws-sts/config.js';
import { iamActionMatches } from '../../../adapters/aws-sts/scope-map.js';

const BASE = {
  role_arn: 'arn:aws:iam::123456789012:role/reports',
  region: 'eu-west-1',
  scopes: { 'reports:read': { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] } },
};

function problems(raw: unknown): readonly string[] {
  try {
    parseAwsStsConfig(raw);
    return [];
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'BROKER_ADAPTER_BAD_CONFIG');
    return (err as { problems: readonly string[] }).problems;
  }
}

describe('aws-sts provider configuration', () => {
  it('applies the defaults: keys, refuse, deny-policy, 1h, 5s, 3 attempts, the AWS endpoints', () => {
    const config = parseAwsStsConfig(BASE);
    assert.equal(config.roleName, 'reports');
    assert.equal(config.endpoint, undefined);
    assert.deepEqual(config.auth, { mode: 'keys' });
    assert.equal(config.shortTtl, 'refuse');
    assert.equal(config.revocation, 'deny-policy');
    assert.equal(config.maxTtlSeconds, 3600);
    assert.equal(config.timeoutMs, 5000);
    assert.equal(config.maxAttempts, 3);
    assert.deepEqual([...config.scopes.keys()], ['reports:read']);
  });

  it('reads web identity with its defaults, and a role path', () => {
    const config = parseAwsStsConfig({
      ...BASE,
      role_arn: 'arn:aws-us-gov:iam::123456789012:role/team/agents/reports',
      auth: { mode: 'web-identity', manager_role_arn: 'arn:aws:iam::123456789012:role/taskpass-manager' },
      max_ttl: '12h',
    });
    assert.equal(config.roleName, 'reports');
    assert.deepEqual(config.auth, {
      mode: 'web-identity',
      audience: 'sts.amazonaws.com',
      managerRoleArn: 'arn:aws:iam::123456789012:role/taskpass-manager',
      managerSubject: 'taskpass-broker',
    });
    assert.equal(config.maxTtlSeconds, 43200);
  });

  it('allows web identity without a manager role when nothing is revoked', () => {
    const config = parseAwsStsConfig({
      ...BASE,
      revocation: 'none',
      auth: { mode: 'web-identity', audience: 'taskpass' },
    });
    assert.equal(config.auth.mode === 'web-identity' && config.auth.audience, 'taskpass');
  });

  const bad: [string, Record<string, unknown>, string[]][] = [
    ['a user arn', { role_arn: 'arn:aws:iam::123456789012:user/x' }, ['role_arn']],
    [
      'a role name over 64 characters',
      { role_arn: `arn:aws:iam::123456789012:role/${'r'.repeat(65)}` },
      ['role_arn'],
    ],
    ['a region that is no region', { region: 'europe' }, ['region']],
    ['an endpoint with a query', { endpoint: 'http://127.0.0.1:5000/?x=1' }, ['endpoint']],
    ['max_ttl under 900 s', { max_ttl: '10m' }, ['max_ttl']],
    ['max_ttl over 12 h', { max_ttl: '13h' }, ['max_ttl']],
    ['timeout over a minute', { timeout: '2m' }, ['timeout']],
    ['max_attempts of 11', { max_attempts: 11 }, ['max_attempts']],
    ['keys mode with a field', { auth: { mode: 'keys', audience: 'x' } }, ['auth.audience']],
    [
      'an unknown auth field',
      { auth: { mode: 'web-identity', manager_role_arn: 'arn:aws:iam::123456789012:role/m', aud: 'x' } },
      ['auth.aud'],
    ],
    [
      'a manager that is no role',
      { auth: { mode: 'web-identity', manager_role_arn: 'arn:aws:iam::123456789012:user/m' } },
      ['auth.manager_role_arn'],
    ],
    ['no scopes', { scopes: {} }, ['scopes']],
    ['a scope without resources', { scopes: { s: { actions: ['s3:GetObject'] } } }, ['scopes.s.resources']],
    [
      'a scope with an unknown field',
      { scopes: { s: { actions: ['s3:GetObject'], resources: ['*'], effect: 'Deny' } } },
      ['scopes.s.effect'],
    ],
    [
      'a malformed action',
      { scopes: { s: { actions: ['GetObject'], resources: ['*'] } } },
      ['scopes.s.actions'],
    ],
    [
      'a resource that is no arn',
      { scopes: { s: { actions: ['s3:GetObject'], resources: ['reports'] } } },
      ['scopes.s.resources'],
    ],
    [
      'a resource outside the session policy charset',
      { scopes: { s: { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::r\u0100'] } } },
      ['scopes.s.resources'],
    ],
  ];
  for (const [name, change, fields] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      const found = problems({ ...BASE, ...change });
      assert.equal(found.length, fields.length, JSON.stringify(found));
      fields.forEach((f, i) => assert.ok(found[i]!.startsWith(`${f}:`), found[i]));
    });
  }

  const escapes: [string, boolean][] = [
    ['*', true],
    ['sts:*', true],
    ['sts:AssumeRole', true],
    ['sts:assumerole*', true],
    ['sts:Assume*', true],
    ['sts:Assume?oleWithSAML', true],
    ['iam:*RolePolicy', true],
    ['iam:Get*', false],
    ['sts:GetCallerIdentity', false],
    ['s3:*', false],
  ];
  for (const [action, escapes_] of escapes) {
    it(`${escapes_ ? 'refuses' : 'allows'} action ${action} under revocation deny-policy`, () => {
      const raw = { ...BASE, scopes: { s: { actions: [action], resources: ['*'] } } };
      assert.equal(problems(raw).length, escapes_ ? 1 : 0);
      assert.equal(problems({ ...raw, revocation: 'none' }).length, 0);
    });
  }

  it('matches IAM action wildcards case-insensitively, and nothing else as a pattern', () => {
    assert.equal(iamActionMatches('s3:Get*', 's3:GetObject'), true);
    assert.equal(iamActionMatches('s3:Get?bject', 's3:getobject'), true);
    assert.equal(iamActionMatches('s3:Get', 's3:GetObject'), false);
    assert.equal(iamActionMatches('s3.Get*', 's3:GetObject'), false);
  });
});
