import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matchPathPrefix,
  parseGlob,
  parsePathPrefix,
  type Matcher,
} from '../../spiffe/matcher.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';

const id = (s: string): SpiffeId => SpiffeId.parse(s);

/** One row: the ID under test and the expected code, `undefined` meaning accepted. */
type Row = { id: string; code?: SpiffeErrorCode };

function runTable(name: string, m: Matcher, rows: Row[]): void {
  describe(name, () => {
    for (const row of rows) {
      const verb = row.code ? `rejects ${row.id} with ${row.code}` : `accepts ${row.id}`;
      it(verb, () => {
        const result = m.match(id(row.id));
        if (row.code === undefined) {
          assert.deepEqual(result, { ok: true });
        } else {
          assert.equal(result.ok, false);
          assert.equal(result.ok === false && result.code, row.code);
          assert.ok(result.ok === false && result.reason.length > 0);
        }
      });
    }
  });
}

runTable('matchAny', matchAny(), [{ id: 'spiffe://a/b' }, { id: 'spiffe://other.org' }]);

runTable('matchId', matchId(id('spiffe://td/ns/prod')), [
  { id: 'spiffe://td/ns/prod' },
  { id: 'spiffe://td/ns/Prod', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
  { id: 'spiffe://td/ns/prod/x', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
  { id: 'spiffe://td/ns', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
  { id: 'spiffe://td2/ns/prod', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
]);

runTable('matchOneOf', matchOneOf(id('spiffe://td/a'), id('spiffe://td/b')), [
  { id: 'spiffe://td/a' },
  { id: 'spiffe://td/b' },
  { id: 'spiffe://td/c', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
  { id: 'spiffe://other/a', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
]);

runTable('matchOneOf with no IDs', matchOneOf(), [
  { id: 'spiffe://td/a', code: 'SPIFFE_MATCH_UNEXPECTED_ID' },
]);

runTable('matchMemberOf', matchMemberOf(TrustDomain.parse('example.org')), [
  { id: 'spiffe://example.org' },
  { id: 'spiffe://example.org/any/path' },
  { id: 'spiffe://sub.example.org/a', code: 'SPIFFE_MATCH_NOT_MEMBER' },
  { id: 'spiffe://example.org.evil/a', code: 'SPIFFE_MATCH_NOT_MEMBER' },
  { id: 'spiffe://org/a', code: 'SPIFFE_MATCH_NOT_MEMBER' },
]);

runTable('matchPathPrefix is segment-aware', matchPathPrefix(id('spiffe://td/a/b')), [
  { id: 'spiffe://td/a/b' },
  { id: 'spiffe://td/a/b/c' },
  { id: 'spiffe://td/a/b/c/d' },
  { id: 'spiffe://td/a/bc', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/a/B', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/a', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/x/a/b', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://other/a/b', code: 'SPIFFE_MATCH_NOT_MEMBER' },
]);

runTable('matchPathPrefix with an empty path covers the trust domain', matchPathPrefix(id('spiffe://td')), [
  { id: 'spiffe://td' },
  { id: 'spiffe://td/anything' },
  { id: 'spiffe://td2/anything', code: 'SPIFFE_MATCH_NOT_MEMBER' },
]);

runTable('parseGlob with * matches exactly one segment', parseGlob('spiffe://td/ns/*/sa/agent'), [
  { id: 'spiffe://td/ns/prod/sa/agent' },
  { id: 'spiffe://td/ns/dev/sa/agent' },
  { id: 'spiffe://td/ns/sa/agent', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/ns/a/b/sa/agent', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/ns/prod/sa/agent2', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/ns/prod/sa/agent/x', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://other/ns/prod/sa/agent', code: 'SPIFFE_MATCH_NOT_MEMBER' },
]);

runTable('parseGlob with ** matches zero or more segments', parseGlob('spiffe://td/a/**/z'), [
  { id: 'spiffe://td/a/z' },
  { id: 'spiffe://td/a/b/z' },
  { id: 'spiffe://td/a/b/c/d/z' },
  { id: 'spiffe://td/a/z/z' },
  { id: 'spiffe://td/a', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/a/b/z/y', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/b/z', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
]);

runTable('parseGlob with a trailing ** acts as a path prefix', parseGlob('spiffe://td/a/**'), [
  { id: 'spiffe://td/a' },
  { id: 'spiffe://td/a/b/c' },
  { id: 'spiffe://td/ab', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
]);

runTable('parseGlob with ** alone covers the trust domain', parseGlob('spiffe://td/**'), [
  { id: 'spiffe://td' },
  { id: 'spiffe://td/x/y' },
  { id: 'spiffe://td2/x', code: 'SPIFFE_MATCH_NOT_MEMBER' },
]);

runTable('parseGlob with no wildcard matches exactly', parseGlob('spiffe://td/a'), [
  { id: 'spiffe://td/a' },
  { id: 'spiffe://td/a/b', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
]);

runTable('parseGlob with several wildcards', parseGlob('spiffe://td/**/x/*/**'), [
  { id: 'spiffe://td/x/y' },
  { id: 'spiffe://td/a/b/x/y/c/d' },
  { id: 'spiffe://td/x', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
  { id: 'spiffe://td/a/b/c', code: 'SPIFFE_MATCH_PATH_MISMATCH' },
]);

describe('parseGlob stays fast on pathological patterns', () => {
  it('matches twenty ** against a long path without backtracking blow-up', () => {
    const m = parseGlob(`spiffe://td${'/**'.repeat(20)}/end`);
    const long = id(`spiffe://td${'/s'.repeat(200)}`);
    assert.equal(m.match(long).ok, false);
  });
});

describe('pattern parsers reject bad patterns with SPIFFE_MATCH_BAD_PATTERN', () => {
  const badGlobs: Array<{ name: string; input: string }> = [
    { name: 'a wildcard trust domain', input: 'spiffe://*/a' },
    { name: 'a partial trust domain wildcard', input: 'spiffe://*.example.org/a' },
    { name: 'a partial-segment wildcard', input: 'spiffe://td/agent-*' },
    { name: 'three stars', input: 'spiffe://td/***' },
    { name: 'a wrong scheme', input: 'https://td/*' },
    { name: 'a missing scheme', input: 'td/*' },
    { name: 'an empty pattern', input: '' },
    { name: 'a trailing slash', input: 'spiffe://td/a/' },
    { name: 'an empty segment', input: 'spiffe://td/a//*' },
    { name: 'a dot-dot segment', input: 'spiffe://td/*/..' },
    { name: 'a query', input: 'spiffe://td/*?x' },
    { name: 'a fragment', input: 'spiffe://td/**#x' },
    { name: 'an uppercase trust domain', input: 'spiffe://TD/*' },
    { name: 'a port', input: 'spiffe://td:1/*' },
  ];
  for (const c of badGlobs) {
    it(`rejects the glob ${c.name}`, () => {
      assert.throws(() => parseGlob(c.input), { code: 'SPIFFE_MATCH_BAD_PATTERN' });
    });
  }

  const badPrefixes = ['spiffe://td/a/', 'spiffe://td/*', 'http://td/a', '', 'spiffe://td/a?b'];
  for (const input of badPrefixes) {
    it(`rejects the path prefix ${JSON.stringify(input)}`, () => {
      assert.throws(() => parsePathPrefix(input), { code: 'SPIFFE_MATCH_BAD_PATTERN' });
    });
  }

  it('keeps the broken ID rule as the cause', () => {
    assert.throws(
      () => parseGlob('spiffe://td/a/'),
      (err: unknown) => (err as { cause?: { code?: string } }).cause?.code === 'SPIFFE_ID_TRAILING_SLASH',
    );
  });
});

describe('parsePathPrefix', () => {
  it('parses a prefix that then matches segment by segment', () => {
    const m = parsePathPrefix('spiffe://td/a');
    assert.equal(m.match(id('spiffe://td/a/b')).ok, true);
    assert.equal(m.match(id('spiffe://td/ab')).ok, false);
  });
});

describe('Matcher.describe names the rule', () => {
  const rows: Array<[Matcher, string]> = [
    [matchAny(), 'any spiffe id'],
    [matchId(id('spiffe://td/a')), 'exactly spiffe://td/a'],
    [matchOneOf(id('spiffe://td/a'), id('spiffe://td/b')), 'one of [spiffe://td/a, spiffe://td/b]'],
    [matchMemberOf(TrustDomain.parse('td')), 'member of trust domain td'],
    [matchPathPrefix(id('spiffe://td/a')), 'path prefix spiffe://td/a'],
    [parseGlob('spiffe://td/*/x'), 'glob spiffe://td/*/x'],
  ];
  for (const [m, text] of rows) {
    it(`describes ${text}`, () => assert.equal(m.describe(), text));
  }
});

describe('matchers are immutable values', () => {
  it('freezes the matcher and its results', () => {
    const m = matchId(id('spiffe://td/a'));
    assert.equal(Object.isFrozen(m), true);
    assert.equal(Object.isFrozen(m.match(id('spiffe://td/b'))), true);
  });

  it('is not affected by later changes to the array of IDs it was built from', () => {
    const ids = [id('spiffe://td/a')];
    const m = matchOneOf(...ids);
    ids.push(id('spiffe://td/b'));
    assert.equal(m.match(id('spiffe://td/b')).ok, false);
  });
});
