import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpiffeId, MAX_SPIFFE_ID_BYTES } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';

/** Asserts that `fn` throws a SpiffeError with exactly `code`. */
function assertCode(fn: () => unknown, code: SpiffeErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

const TD_255 = `${'a'.repeat(251)}.org`;
const td = TrustDomain.parse('example.org');

/** A valid path of exactly `n` bytes: `/` and one long segment (segment length is not limited). */
function pathOfLength(n: number): string {
  return `/${'a'.repeat(n - 1)}`;
}

describe('SpiffeId.parse accepts valid IDs (SPIFFE-ID §2)', () => {
  const valid: Array<{ name: string; input: string; trustDomain: string; path: string }> = [
    {
      name: 'a trust domain with no path',
      input: 'spiffe://example.org',
      trustDomain: 'example.org',
      path: '',
    },
    {
      name: 'a one-segment path',
      input: 'spiffe://example.org/agent',
      trustDomain: 'example.org',
      path: '/agent',
    },
    {
      name: 'a hierarchical path',
      input: 'spiffe://k8s-west.example.com/ns/staging/sa/default',
      trustDomain: 'k8s-west.example.com',
      path: '/ns/staging/sa/default',
    },
    {
      name: 'uppercase letters in the path',
      input: 'spiffe://td/Payments/WEB',
      trustDomain: 'td',
      path: '/Payments/WEB',
    },
    {
      name: 'dots, dashes and underscores in the path',
      input: 'spiffe://td/a.b-c_d',
      trustDomain: 'td',
      path: '/a.b-c_d',
    },
    { name: 'a segment of three dots', input: 'spiffe://td/...', trustDomain: 'td', path: '/...' },
    {
      name: 'a segment starting with a dot',
      input: 'spiffe://td/.hidden',
      trustDomain: 'td',
      path: '/.hidden',
    },
    {
      name: 'digits, dashes and underscores in the trust domain',
      input: 'spiffe://a-1_b.c9/x',
      trustDomain: 'a-1_b.c9',
      path: '/x',
    },
    {
      name: 'a uuid path',
      input: 'spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453',
      trustDomain: 'example.com',
      path: '/9eebccd2-12bf-40a6-b262-65fe0487d453',
    },
    { name: 'a 255-character trust domain', input: `spiffe://${TD_255}`, trustDomain: TD_255, path: '' },
  ];
  for (const c of valid) {
    it(`accepts ${c.name}`, () => {
      const id = SpiffeId.parse(c.input);
      assert.equal(id.trustDomain.name, c.trustDomain);
      assert.equal(id.path, c.path);
      assert.equal(id.toString(), c.input);
    });
  }

  it('accepts an ID of exactly 2048 bytes', () => {
    const prefix = `spiffe://${TD_255}`;
    const input = prefix + pathOfLength(MAX_SPIFFE_ID_BYTES - prefix.length);
    assert.equal(Buffer.byteLength(input), MAX_SPIFFE_ID_BYTES);
    assert.equal(SpiffeId.parse(input).toString(), input);
  });
});

describe('SpiffeId.parse rejects invalid IDs with the code of the broken rule', () => {
  const invalid: Array<{ name: string; input: string; code: SpiffeErrorCode }> = [
    { name: 'an empty string', input: '', code: 'SPIFFE_ID_EMPTY' },
    // Scheme (§2): exactly `spiffe`, lower case, followed by `://`.
    { name: 'a missing scheme', input: 'example.org/workload', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'a scheme-relative URI', input: '//example.org/workload', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'an uppercase scheme', input: 'SPIFFE://example.org/workload', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'a mixed-case scheme', input: 'Spiffe://example.org/workload', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'the https scheme', input: 'https://example.org/workload', code: 'SPIFFE_ID_WRONG_SCHEME' },
    {
      name: 'a scheme with one slash',
      input: 'spiffe:/example.org/workload',
      code: 'SPIFFE_ID_WRONG_SCHEME',
    },
    { name: 'a scheme without slashes', input: 'spiffe:example.org', code: 'SPIFFE_ID_WRONG_SCHEME' },
    { name: 'leading whitespace', input: ' spiffe://example.org', code: 'SPIFFE_ID_WRONG_SCHEME' },
    // Trust domain (§2.1).
    { name: 'no trust domain', input: 'spiffe://', code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN' },
    {
      name: 'an empty trust domain before a path',
      input: 'spiffe:///workload',
      code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN',
    },
    {
      name: 'an empty trust domain before a query',
      input: 'spiffe://?x=1',
      code: 'SPIFFE_ID_MISSING_TRUST_DOMAIN',
    },
    {
      name: 'an uppercase trust domain',
      input: 'spiffe://Example.org/workload',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    {
      name: 'a space in the trust domain',
      input: 'spiffe://exa mple.org',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    {
      name: 'a plus in the trust domain',
      input: 'spiffe://exa+mple.org',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    {
      name: 'a percent-encoded trust domain',
      input: 'spiffe://ex%41mple.org/a',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    {
      name: 'a non-ASCII trust domain',
      input: 'spiffe://exämple.org',
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
    },
    { name: 'a port', input: 'spiffe://example.org:8443/workload', code: 'SPIFFE_ID_HAS_PORT' },
    { name: 'an empty port', input: 'spiffe://example.org:/workload', code: 'SPIFFE_ID_HAS_PORT' },
    { name: 'userinfo', input: 'spiffe://user@example.org/workload', code: 'SPIFFE_ID_HAS_USERINFO' },
    {
      name: 'userinfo with a password',
      input: 'spiffe://user:pw@example.org/workload',
      code: 'SPIFFE_ID_HAS_USERINFO',
    },
    {
      name: 'a 256-character trust domain',
      input: `spiffe://a${TD_255}`,
      code: 'SPIFFE_ID_TRUST_DOMAIN_TOO_LONG',
    },
    // Query and fragment (§2).
    { name: 'a query', input: 'spiffe://example.org/workload?x=1', code: 'SPIFFE_ID_HAS_QUERY' },
    { name: 'an empty query', input: 'spiffe://example.org/workload?', code: 'SPIFFE_ID_HAS_QUERY' },
    {
      name: 'a query straight after the trust domain',
      input: 'spiffe://example.org?x',
      code: 'SPIFFE_ID_HAS_QUERY',
    },
    { name: 'a query then a fragment', input: 'spiffe://example.org/a?x#y', code: 'SPIFFE_ID_HAS_QUERY' },
    { name: 'a fragment', input: 'spiffe://example.org/workload#frag', code: 'SPIFFE_ID_HAS_FRAGMENT' },
    { name: 'an empty fragment', input: 'spiffe://example.org#', code: 'SPIFFE_ID_HAS_FRAGMENT' },
    {
      name: 'a fragment containing a question mark',
      input: 'spiffe://example.org/a#y?x',
      code: 'SPIFFE_ID_HAS_FRAGMENT',
    },
    // Path (§2.2).
    {
      name: 'a trailing slash after the trust domain',
      input: 'spiffe://example.org/',
      code: 'SPIFFE_ID_TRAILING_SLASH',
    },
    {
      name: 'a trailing slash after a segment',
      input: 'spiffe://example.org/workload/',
      code: 'SPIFFE_ID_TRAILING_SLASH',
    },
    { name: 'two leading slashes', input: 'spiffe://example.org//workload', code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'an empty middle segment', input: 'spiffe://example.org/a//b', code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'only two slashes', input: 'spiffe://example.org//', code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'a dot segment', input: 'spiffe://example.org/a/./b', code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'a dot-dot segment', input: 'spiffe://example.org/a/../b', code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'a final dot segment', input: 'spiffe://example.org/.', code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'a final dot-dot segment', input: 'spiffe://example.org/a/..', code: 'SPIFFE_ID_DOT_SEGMENT' },
    {
      name: 'a percent-encoded character',
      input: 'spiffe://example.org/a%20b',
      code: 'SPIFFE_ID_PERCENT_ENCODED',
    },
    {
      name: 'a percent-encoded slash',
      input: 'spiffe://example.org/a%2Fb',
      code: 'SPIFFE_ID_PERCENT_ENCODED',
    },
    { name: 'a lone percent sign', input: 'spiffe://example.org/100%', code: 'SPIFFE_ID_PERCENT_ENCODED' },
    { name: 'a space in the path', input: 'spiffe://example.org/a b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a colon in the path', input: 'spiffe://example.org/a:b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'an at sign in the path', input: 'spiffe://example.org/a@b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a tilde in the path', input: 'spiffe://example.org/~a', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a plus in the path', input: 'spiffe://example.org/a+b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a backslash in the path', input: 'spiffe://example.org/a\\b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a non-ASCII path', input: 'spiffe://example.org/café', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a newline in the path', input: 'spiffe://example.org/a\nb', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    // Length (§2.3).
    {
      name: 'an ID of 2049 bytes',
      input: `spiffe://${TD_255}${pathOfLength(MAX_SPIFFE_ID_BYTES + 1 - `spiffe://${TD_255}`.length)}`,
      code: 'SPIFFE_ID_TOO_LONG',
    },
    {
      name: 'an ID far over the limit',
      input: `spiffe://td/${'a'.repeat(5000)}`,
      code: 'SPIFFE_ID_TOO_LONG',
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name} with ${c.code}`, () => assertCode(() => SpiffeId.parse(c.input), c.code));
  }
});

describe('SpiffeId.fromPath', () => {
  it('builds an ID from a trust domain and a path', () => {
    const id = SpiffeId.fromPath(td, '/ns/prod/agent');
    assert.equal(id.toString(), 'spiffe://example.org/ns/prod/agent');
    assert.deepEqual(id.segments, ['ns', 'prod', 'agent']);
  });

  it('accepts an empty path as the trust domain ID', () => {
    const id = SpiffeId.fromPath(td, '');
    assert.equal(id.toString(), 'spiffe://example.org');
    assert.deepEqual(id.segments, []);
  });

  const invalid: Array<{ name: string; path: string; code: SpiffeErrorCode }> = [
    { name: 'a path without a leading slash', path: 'agent', code: 'SPIFFE_ID_NO_LEADING_SLASH' },
    { name: 'a lone slash', path: '/', code: 'SPIFFE_ID_TRAILING_SLASH' },
    { name: 'a trailing slash', path: '/a/', code: 'SPIFFE_ID_TRAILING_SLASH' },
    { name: 'an empty segment', path: '/a//b', code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'a dot-dot segment', path: '/..', code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'percent-encoding', path: '/a%41', code: 'SPIFFE_ID_PERCENT_ENCODED' },
    { name: 'a query character', path: '/a?b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a fragment character', path: '/a#b', code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    {
      name: 'a path that makes the ID longer than 2048 bytes',
      path: `/${'a'.repeat(2048)}`,
      code: 'SPIFFE_ID_TOO_LONG',
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name} with ${c.code}`, () => assertCode(() => SpiffeId.fromPath(td, c.path), c.code));
  }
});

describe('SpiffeId.fromSegments', () => {
  it('joins segments into a path', () => {
    assert.equal(SpiffeId.fromSegments(td, 'ns', 'prod').toString(), 'spiffe://example.org/ns/prod');
  });

  it('gives the trust domain ID for no segments', () => {
    assert.equal(SpiffeId.fromSegments(td).toString(), 'spiffe://example.org');
  });

  const invalid: Array<{ name: string; segments: string[]; code: SpiffeErrorCode }> = [
    { name: 'an empty segment', segments: ['a', ''], code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'a single empty segment', segments: [''], code: 'SPIFFE_ID_EMPTY_SEGMENT' },
    { name: 'a segment containing a slash', segments: ['a/b'], code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a segment that is a whole path', segments: ['/a'], code: 'SPIFFE_ID_BAD_PATH_CHAR' },
    { name: 'a dot segment', segments: ['.'], code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'a dot-dot segment', segments: ['a', '..'], code: 'SPIFFE_ID_DOT_SEGMENT' },
    { name: 'a percent-encoded segment', segments: ['%2F'], code: 'SPIFFE_ID_PERCENT_ENCODED' },
    { name: 'a bad character', segments: ['a*'], code: 'SPIFFE_ID_BAD_PATH_CHAR' },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name} with ${c.code}`, () =>
      assertCode(() => SpiffeId.fromSegments(td, ...c.segments), c.code));
  }
});

describe('SpiffeId value semantics', () => {
  it('is a member of its own trust domain only', () => {
    const id = SpiffeId.parse('spiffe://example.org/agent');
    assert.equal(id.memberOf(TrustDomain.parse('example.org')), true);
    assert.equal(id.memberOf(TrustDomain.parse('example.com')), false);
    assert.equal(id.memberOf(TrustDomain.parse('sub.example.org')), false);
  });

  it('equals an ID parsed from the same string', () => {
    assert.equal(SpiffeId.parse('spiffe://td/a/b').equals(SpiffeId.parse('spiffe://td/a/b')), true);
  });

  const different: Array<[string, string]> = [
    ['spiffe://td/a', 'spiffe://td/A'],
    ['spiffe://td/a', 'spiffe://td/a/b'],
    ['spiffe://td/a', 'spiffe://td2/a'],
    ['spiffe://td', 'spiffe://td/a'],
  ];
  for (const [a, b] of different) {
    it(`does not equal ${b} when it is ${a}`, () => {
      assert.equal(SpiffeId.parse(a).equals(SpiffeId.parse(b)), false);
    });
  }

  it('prints the URI form from toString and toJSON', () => {
    const id = SpiffeId.fromSegments(td, 'ns', 'prod');
    assert.equal(id.toString(), 'spiffe://example.org/ns/prod');
    assert.equal(JSON.stringify({ id }), '{"id":"spiffe://example.org/ns/prod"}');
    assert.equal(`${id}`, 'spiffe://example.org/ns/prod');
  });

  it('gives the trust domain ID from forTrustDomain', () => {
    const id = SpiffeId.forTrustDomain(td);
    assert.equal(id.toString(), 'spiffe://example.org');
    assert.equal(id.equals(SpiffeId.parse('spiffe://example.org')), true);
  });

  it('is frozen', () => {
    const id = SpiffeId.parse('spiffe://td/a');
    assert.equal(Object.isFrozen(id), true);
    assert.throws(() => {
      (id as unknown as { path: string }).path = '/b';
    }, TypeError);
  });
});
