import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJwtProviderConfig } from '../../../adapters/jwt/config.js';

describe('jwt provider configuration', () => {
  it('applies the defaults: ES256 and a 1h max ttl', () => {
    assert.deepEqual(parseJwtProviderConfig({ audience: 'crm-api', issuer: 'https://broker.test' }), {
      audience: 'crm-api',
      issuer: 'https://broker.test',
      algorithm: 'ES256',
      maxTtlSeconds: 3600,
    });
  });

  it('reads every field', () => {
    const raw = { audience: 'a', issuer: 'http://127.0.0.1:8080/tp', algorithm: 'RS256', max_ttl: '1h30m' };
    assert.deepEqual(parseJwtProviderConfig(raw), {
      audience: 'a',
      issuer: 'http://127.0.0.1:8080/tp',
      algorithm: 'RS256',
      maxTtlSeconds: 5400,
    });
    assert.equal(parseJwtProviderConfig({ ...raw, max_ttl: 90 }).maxTtlSeconds, 90);
  });

  const bad: [string, unknown, string[]][] = [
    ['null', null, ['configuration must be an object']],
    ['missing audience and issuer', {}, ['audience', 'issuer']],
    ['an ftp issuer', { audience: 'a', issuer: 'ftp://x' }, ['issuer']],
    ['an issuer with a fragment', { audience: 'a', issuer: 'https://x/#f' }, ['issuer']],
    ['alg none', { audience: 'a', issuer: 'https://x', algorithm: 'none' }, ['algorithm']],
    ['a max ttl over a day', { audience: 'a', issuer: 'https://x', max_ttl: '25h' }, ['max_ttl']],
    ['a zero max ttl', { audience: 'a', issuer: 'https://x', max_ttl: 0 }, ['max_ttl']],
    ['an unknown field', { audience: 'a', issuer: 'https://x', aud: 'b' }, ['aud']],
    ['an audience with spaces around', { audience: ' a', issuer: 'https://x' }, ['audience']],
  ];
  for (const [name, raw, fields] of bad) {
    it(`rejects ${name}, naming each field`, () => {
      assert.throws(
        () => parseJwtProviderConfig(raw),
        (err: { code?: string; problems?: readonly string[] }) => {
          assert.equal(err.code, 'BROKER_ADAPTER_BAD_CONFIG');
          assert.deepEqual(
            err.problems?.map((p) => p.split(':')[0]),
            fields.map((f) => f.split(':')[0]),
          );
          return true;
        },
      );
    });
  }
});
