// The vault provider's configuration: defaults applied, and every problem listed with its field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVaultProviderConfig } from '../../../adapters/vault/config.js';
import { parseVaultHandle } from '../../../adapters/vault/handle.js';

const BASE = {
  address: 'https://vault.internal:8200/',
  auth: { method: 'approle', role_id: 'r-1', secret_id_file: '/run/secret-id' },
  mode: 'token',
  policies: ['agent'],
};

function problemsOf(raw: unknown, jwtSvid = true): readonly string[] {
  try {
    parseVaultProviderConfig(raw, jwtSvid);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'BROKER_ADAPTER_BAD_CONFIG');
    return (err as { problems: readonly string[] }).problems;
  }
  return [];
}

describe('vault provider configuration', () => {
  it('applies the defaults', () => {
    const config = parseVaultProviderConfig(BASE, false);
    assert.equal(config.address, 'https://vault.internal:8200');
    assert.equal(config.timeoutMs, 10_000);
    assert.equal(config.renewable, false);
    assert.equal(config.explicitMaxTtlSeconds, undefined);
    assert.equal(config.numUses, 0);
    assert.equal(config.noDefaultPolicy, false);
    assert.equal(config.displayName, 'taskpass');
    assert.equal(config.wrapTtlSeconds, undefined);
    assert.equal(config.namespace, undefined);
    assert.equal(config.dynamic, undefined);
    assert.deepEqual(config.scopes, {});
    assert.deepEqual(config.auth, {
      method: 'approle',
      mount: 'approle',
      roleId: 'r-1',
      roleIdFile: undefined,
      secretIdFile: '/run/secret-id',
    });
  });

  it('reads dynamic mode and jwt auth with their defaults', () => {
    const config = parseVaultProviderConfig(
      {
        ...BASE,
        auth: { method: 'jwt', role: 'broker' },
        mode: 'dynamic',
        path: 'pki/issue/agents',
        method: 'POST',
        params: { common_name: 'a.example', ttl: '{{ttl}}' },
        wrap_ttl: '90s',
      },
      true,
    );
    assert.deepEqual(config.auth, {
      method: 'jwt',
      mount: 'jwt',
      role: 'broker',
      audience: 'vault',
      jwtFile: undefined,
    });
    assert.deepEqual(config.dynamic, {
      path: 'pki/issue/agents',
      method: 'POST',
      params: { common_name: 'a.example', ttl: '{{ttl}}' },
    });
    assert.equal(config.wrapTtlSeconds, 90);
  });

  const bad: [string, Record<string, unknown>, string[], boolean?][] = [
    ['an address with credentials', { address: 'https://u:p@vault:8200' }, ['address']],
    ['a relative address', { address: 'vault:8200/x y' }, ['address']],
    ['an unknown auth method', { auth: { method: 'kubernetes' } }, ['auth.method']],
    ['auth not an object', { auth: 'token' }, ['auth']],
    ['unknown auth field', { auth: { method: 'token', token_file: '/t', token: 'hvs.x' } }, ['auth.token']],
    ['jwt without a source', { auth: { method: 'jwt', role: 'r' } }, ['auth.jwt_file'], false],
    ['a root policy', { policies: ['root'] }, ['policies']],
    ['duplicate policies', { policies: ['a', 'a'] }, ['policies']],
    ['a scope mapped to a string', { scopes: { 'kv:read': 'kv-read' } }, ['scopes.kv:read']],
    ['a timeout too long', { timeout: '10m' }, ['timeout']],
    ['a negative num_uses', { num_uses: -1 }, ['num_uses']],
    ['a wrap ttl of zero', { wrap_ttl: 0 }, ['wrap_ttl']],
    ['an engine path with ..', { mode: 'dynamic', path: 'database/../sys/x' }, ['path']],
    ['an engine path of one segment', { mode: 'dynamic', path: 'database' }, ['path']],
    ['an auth path', { mode: 'dynamic', path: 'auth/token/create' }, ['path']],
    ['a method other than GET and POST', { mode: 'dynamic', path: 'a/b', method: 'DELETE' }, ['method']],
    ['an unknown mode', { mode: 'kv' }, ['mode']],
  ];
  for (const [name, change, fields, jwtSvid] of bad) {
    it(`lists the problem with its field: ${name}`, () => {
      const problems = problemsOf({ ...BASE, ...change }, jwtSvid ?? true);
      assert.deepEqual(
        problems.map((p) => p.slice(0, p.indexOf(': '))),
        fields,
      );
    });
  }

  it('never repeats a secret-looking value in a problem', () => {
    const problems = problemsOf({
      ...BASE,
      auth: { method: 'token', token_file: '/t', token: 'hvs.SECRETSECRET' },
    });
    assert.ok(problems.every((p) => !p.includes('SECRETSECRET')));
  });
});

describe('vault handles', () => {
  const good = [
    { kind: 'token', accessor: 'abc', renewable: false, expiresAt: '2025-01-01T00:00:00.000Z' },
    {
      kind: 'lease',
      leaseId: 'db/creds/r/x',
      holderAccessor: 'h',
      renewable: true,
      expiresAt: '2025-01-01T00:00:00Z',
    },
    {
      kind: 'lease',
      leaseId: null,
      holderAccessor: 'h',
      renewable: false,
      expiresAt: '2025-01-01T00:00:00Z',
    },
  ];
  for (const raw of good) {
    it(`accepts a stored ${raw.kind} handle`, () => assert.deepEqual(parseVaultHandle(raw), raw));
  }
  const broken: [string, unknown][] = [
    [
      'a token handle without accessor',
      { kind: 'token', renewable: false, expiresAt: '2025-01-01T00:00:00Z' },
    ],
    [
      'an empty accessor',
      { kind: 'token', accessor: '', renewable: false, expiresAt: '2025-01-01T00:00:00Z' },
    ],
    [
      'a lease without holder',
      { kind: 'lease', leaseId: 'x', renewable: false, expiresAt: '2025-01-01T00:00:00Z' },
    ],
    [
      'an empty lease id',
      { kind: 'lease', leaseId: '', holderAccessor: 'h', renewable: false, expiresAt: '2025' },
    ],
    ['a bad expiry', { kind: 'token', accessor: 'a', renewable: false, expiresAt: 'soon' }],
    [
      'an unknown kind',
      { kind: 'secret', accessor: 'a', renewable: false, expiresAt: '2025-01-01T00:00:00Z' },
    ],
  ];
  for (const [name, raw] of broken) {
    it(`refuses a malformed handle: ${name}`, () =>
      assert.throws(() => parseVaultHandle(raw), { code: 'BROKER_ADAPTER_BAD_HANDLE' }));
  }
});
