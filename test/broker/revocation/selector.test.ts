import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RevocationSelector } from '../../../broker/api/ports.js';
import { BrokerError } from '../../../broker/errors.js';
import { compileSelector } from '../../../broker/revocation/selector.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

const id = (s: string) => SpiffeId.parse(s);

describe('compileSelector', () => {
  // selector, broad?, accepted IDs, refused IDs
  const valid: [string, RevocationSelector, boolean, string[], string[]][] = [
    ['empty', {}, true, ['spiffe://a.test/x', 'spiffe://b.test/y'], []],
    ['provider only', { provider: 'crm-api' }, true, ['spiffe://a.test/x'], []],
    ['time only', { startedBefore: new Date('2025-01-01T00:00:00Z') }, true, ['spiffe://a.test/x'], []],
    [
      'trust domain',
      { trustDomain: 'a.test' },
      true,
      ['spiffe://a.test/x', 'spiffe://a.test'],
      ['spiffe://a.testx/x', 'spiffe://b.test/x'],
    ],
    [
      'prefix at the trust domain root',
      { spiffeIdPrefix: 'spiffe://a.test' },
      true,
      ['spiffe://a.test/x/y'],
      ['spiffe://b.test/x'],
    ],
    [
      'prefix, segment-wise',
      { spiffeIdPrefix: 'spiffe://a.test/agents' },
      false,
      ['spiffe://a.test/agents', 'spiffe://a.test/agents/w1'],
      ['spiffe://a.test/agentsx', 'spiffe://a.test/other/agents'],
    ],
    [
      'prefix written with a trailing slash',
      { spiffeIdPrefix: 'spiffe://a.test/agents/' },
      false,
      ['spiffe://a.test/agents/w1'],
      ['spiffe://a.test/agentsx'],
    ],
    ['glob **', { spiffeIdGlob: 'spiffe://a.test/**' }, true, ['spiffe://a.test/x/y'], ['spiffe://b.test/x']],
    [
      'glob * only',
      { spiffeIdGlob: 'spiffe://a.test/*/*' },
      true,
      ['spiffe://a.test/x/y'],
      ['spiffe://a.test/x'],
    ],
    [
      'glob with a literal segment',
      { spiffeIdGlob: 'spiffe://a.test/*/db' },
      false,
      ['spiffe://a.test/x/db'],
      ['spiffe://a.test/x/web', 'spiffe://a.test/db'],
    ],
    [
      'glob **, zero segments after the literal',
      { spiffeIdGlob: 'spiffe://a.test/agents/**' },
      false,
      ['spiffe://a.test/agents', 'spiffe://a.test/agents/a/b'],
      ['spiffe://a.test/agentsx'],
    ],
    [
      'prefix AND trust domain (all must hold)',
      { spiffeIdPrefix: 'spiffe://a.test/agents', trustDomain: 'b.test' },
      false,
      [],
      ['spiffe://a.test/agents/w', 'spiffe://b.test/agents/w'],
    ],
  ];
  for (const [name, selector, broad, accepted, refused] of valid) {
    it(`compiles ${name}: broad=${broad}`, () => {
      const compiled = compileSelector(selector);
      assert.equal(compiled.broad, broad);
      const accept = compiled.selection.accept ?? (() => true);
      for (const a of accepted) {
        assert.ok(accept(id(a)), `${a} accepted`);
        const prefix = compiled.selection.workloadPrefix;
        assert.ok(prefix === undefined || a.startsWith(prefix), `${a} passes the SQL prefilter ${prefix}`);
      }
      for (const r of refused) assert.ok(!accept(id(r)), `${r} refused`);
    });
  }

  const invalid: [string, RevocationSelector][] = [
    ['prefix that is not a SPIFFE ID', { spiffeIdPrefix: 'https://a.test/x' }],
    ['prefix with an empty segment', { spiffeIdPrefix: 'spiffe://a.test//agents' }],
    ['glob with a partial wildcard', { spiffeIdGlob: 'spiffe://a.test/agent-*' }],
    ['glob wildcard in the trust domain', { spiffeIdGlob: 'spiffe://*.test/x' }],
    ['bad trust domain', { trustDomain: 'A..test' }],
    ['invalid time', { startedBefore: new Date('nope') }],
    ['empty provider', { provider: '' }],
  ];
  for (const [name, selector] of invalid) {
    it(`refuses ${name} with BROKER_INPUT_INVALID`, () => {
      assert.throws(
        () => compileSelector(selector),
        (err) => err instanceof BrokerError && err.code === 'BROKER_INPUT_INVALID',
      );
    });
  }

  it('describes the selector for the ledger in the wire names', () => {
    const at = new Date('2025-02-03T04:05:06.000Z');
    assert.deepEqual(compileSelector({ spiffeIdGlob: 'spiffe://a.test/x/*', startedBefore: at }).target, {
      selector: { spiffe_id_glob: 'spiffe://a.test/x/*', started_before: '2025-02-03T04:05:06.000Z' },
    });
  });
});
