import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSpiffeError } from '../../../spiffe/errors.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import {
  matchRegistrations,
  parseRegistrations,
  type Registrations,
} from '../../../spiffe/workload-api/registrations.js';
import { id, registrations } from './harness.js';

const peer = (uid: number, gid: number) => ({ pid: 100, uid, gid });

describe('registration matching', () => {
  const regs: Registrations = registrations(
    [
      { path: '/uid-1000', uid: 1000, hint: 'a' },
      { path: '/gid-50', gid: 50, hint: 'a' },
      { path: '/uid-1000-gid-60', uid: 1000, gid: 60 },
      { path: '/uid-1000', gid: 50 },
      { path: '/uid-2000', uid: 2000 },
    ],
    '/dev',
  );

  const cases: [string, ReturnType<typeof peer> | undefined, string[]][] = [
    ['a uid match', peer(2000, 1), ['/uid-2000']],
    ['every matching entry, in entry order, without duplicate ids', peer(1000, 50), ['/uid-1000', '/gid-50']],
    ['all selectors of an entry must match', peer(1000, 60), ['/uid-1000', '/uid-1000-gid-60']],
    ['the default when nothing matches', peer(3000, 3000), ['/dev']],
    ['the default for an unattested caller', undefined, ['/dev']],
  ];
  for (const [name, creds, expected] of cases) {
    it(`gives ${name}`, () => {
      const got = matchRegistrations(regs, creds).map((i) => i.spiffeId.path);
      assert.deepEqual(got, expected);
    });
  }

  it('keeps a hint only on its first identity, so hints are unique in a response', () => {
    const got = matchRegistrations(regs, peer(1000, 50));
    assert.deepEqual(
      got.map((i) => i.hint),
      ['a', undefined],
    );
  });

  it('gives nothing without a default', () => {
    const noDefault = registrations([{ path: '/x', uid: 1 }]);
    assert.deepEqual(matchRegistrations(noDefault, peer(2, 2)), []);
    assert.deepEqual(matchRegistrations(noDefault, undefined), []);
  });
});

describe('registration parsing', () => {
  it('parses entries and a default given as a bare SPIFFE ID', () => {
    const regs = parseRegistrations({
      entries: [{ spiffeId: 'spiffe://example.org/a', selectors: { uid: 0 }, hint: 'h' }],
      default: 'spiffe://example.org/dev',
    });
    assert.ok(regs.entries[0]?.spiffeId.equals(id('/a')));
    assert.equal(regs.entries[0]?.hint, 'h');
    assert.ok(regs.default?.spiffeId.equals(id('/dev')));
  });

  const bad: [string, unknown][] = [
    ['an entry without selectors', { entries: [{ spiffeId: 'spiffe://example.org/a', selectors: {} }] }],
    ['a negative uid', { entries: [{ spiffeId: 'spiffe://example.org/a', selectors: { uid: -1 } }] }],
    ['a fractional gid', { entries: [{ spiffeId: 'spiffe://example.org/a', selectors: { gid: 1.5 } }] }],
    [
      'an invalid SPIFFE ID',
      { entries: [{ spiffeId: 'spiffe://example.org/a/../b', selectors: { uid: 1 } }] },
    ],
    ['a non-string SPIFFE ID', { default: { spiffeId: 42 } }],
    ['entries that are not a list', { entries: {} }],
    [
      'a hint over 1024 bytes',
      { entries: [{ spiffeId: 'spiffe://example.org/a', selectors: { uid: 1 }, hint: 'x'.repeat(1025) }] },
    ],
  ];
  for (const [name, raw] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseRegistrations(raw),
        (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_REGISTRATION'),
      );
    });
  }

  it('rejects an identity outside the given trust domain', () => {
    assert.throws(
      () => parseRegistrations({ default: 'spiffe://other.org/dev' }, TrustDomain.parse('example.org')),
      (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_REGISTRATION'),
    );
  });
});
