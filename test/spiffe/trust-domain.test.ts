import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrustDomain, MAX_TRUST_DOMAIN_LENGTH, validateTrustDomainName } from '../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';

/** Asserts that `fn` throws a SpiffeError with exactly `code`. */
function assertCode(fn: () => unknown, code: SpiffeErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

const NAME_255 = `${'a'.repeat(MAX_TRUST_DOMAIN_LENGTH - 4)}.org`;

describe('TrustDomain.parse accepts valid names (SPIFFE-ID §2.1)', () => {
  const valid: Array<{ name: string; input: string; expected: string }> = [
    { name: 'a dotted name', input: 'example.org', expected: 'example.org' },
    { name: 'a single label', input: 'td', expected: 'td' },
    {
      name: 'digits, dashes and underscores',
      input: 'k8s-west_1.example.com',
      expected: 'k8s-west_1.example.com',
    },
    { name: 'a name that is all digits and dots', input: '10.0.0.1', expected: '10.0.0.1' },
    { name: 'a 255-character name', input: NAME_255, expected: NAME_255 },
    {
      name: 'the trust domain of a SPIFFE ID',
      input: 'spiffe://example.org/ns/prod',
      expected: 'example.org',
    },
    { name: 'a trust domain ID with no path', input: 'spiffe://example.org', expected: 'example.org' },
  ];
  for (const c of valid) {
    it(`accepts ${c.name}`, () => {
      const td = TrustDomain.parse(c.input);
      assert.equal(td.name, c.expected);
      assert.equal(td.toString(), c.expected);
    });
  }
});

describe('TrustDomain.parse rejects invalid names with the code of the broken rule', () => {
  const invalid: Array<{ name: string; input: string; code: SpiffeErrorCode }> = [
    { name: 'an empty string', input: '', code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN' },
    { name: 'a SPIFFE ID with no trust domain', input: 'spiffe://', code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN' },
    {
      name: 'a SPIFFE ID with an empty trust domain',
      input: 'spiffe:///a',
      code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN',
    },
    { name: 'an ID with another scheme', input: 'https://example.org/a', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'an ID with an uppercase scheme', input: 'SPIFFE://example.org', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'uppercase letters', input: 'Example.org', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    {
      name: 'uppercase letters inside an ID',
      input: 'spiffe://EXAMPLE.org/a',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    { name: 'a space', input: 'example .org', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    { name: 'a slash', input: 'example.org/a', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    { name: 'a percent sign', input: 'ex%61mple.org', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    { name: 'a non-ASCII letter', input: 'bücher.example', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    { name: 'a port', input: 'example.org:443', code: 'SPIFFE_ID_HAS_PORT' },
    { name: 'a port inside an ID', input: 'spiffe://example.org:443/a', code: 'SPIFFE_ID_HAS_PORT' },
    { name: 'an ID with a dot segment', input: 'spiffe://example.org/a/../b', code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'an ID with a query', input: 'spiffe://example.org/a?x=1', code: 'SPIFFE_ID_HAS_QUERY' },
    {
      name: 'an ID with a trailing slash',
      input: 'spiffe://example.org/a/',
      code: 'SPIFFE_ID_TRAILING_SLASH',
    },
    { name: 'userinfo', input: 'admin@example.org', code: 'SPIFFE_ID_HAS_USERINFO' },
    { name: 'userinfo inside an ID', input: 'spiffe://u:p@example.org', code: 'SPIFFE_ID_HAS_USERINFO' },
    { name: 'a 256-character name', input: `a${NAME_255}`, code: 'SPIFFE_ID_TRUST_DOMAIN_TOO_LONG' },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name} with ${c.code}`, () => assertCode(() => TrustDomain.parse(c.input), c.code));
  }
});

describe('validateTrustDomainName', () => {
  it('accepts a bare name', () => {
    assert.doesNotThrow(() => validateTrustDomainName('example.org'));
  });

  it('rejects a name with a bad character', () => {
    assertCode(() => validateTrustDomainName('example.org/a'), 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
  });
});

describe('TrustDomain value semantics', () => {
  it('equals a trust domain parsed from the same name or from an ID in it', () => {
    const a = TrustDomain.parse('example.org');
    assert.equal(a.equals(TrustDomain.parse('example.org')), true);
    assert.equal(a.equals(TrustDomain.parse('spiffe://example.org/x')), true);
  });

  it('does not equal another name, even a parent or child domain', () => {
    const a = TrustDomain.parse('example.org');
    assert.equal(a.equals(TrustDomain.parse('sub.example.org')), false);
    assert.equal(a.equals(TrustDomain.parse('org')), false);
  });

  it('gives its own SPIFFE ID string', () => {
    assert.equal(TrustDomain.parse('example.org').idString, 'spiffe://example.org');
  });

  it('serialises to the bare name', () => {
    assert.equal(JSON.stringify({ td: TrustDomain.parse('example.org') }), '{"td":"example.org"}');
  });

  it('is frozen', () => {
    assert.equal(Object.isFrozen(TrustDomain.parse('example.org')), true);
  });
});
