import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCliCaptured } from '../../support/run-cli.js';

describe('taskpass id parse', () => {
  it('prints the trust domain and path as JSON', async () => {
    const out = await runCliCaptured(['--json', 'id', 'parse', 'spiffe://example.org/ns/prod/agent']);
    assert.equal(out.code, 0);
    assert.deepEqual(JSON.parse(out.stdout), {
      spiffe_id: 'spiffe://example.org/ns/prod/agent',
      trust_domain: 'example.org',
      path: '/ns/prod/agent',
    });
  });

  const broken: Array<[string, string]> = [
    ['http://example.org/a', 'SPIFFE_ID_WRONG_SCHEME'],
    ['spiffe://Example.org/a', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
    ['spiffe://example.org/a/', 'SPIFFE_ID_TRAILING_SLASH'],
    ['spiffe://example.org/a/../b', 'SPIFFE_ID_DOT_SEGMENT'],
    ['spiffe://example.org:8443/a', 'SPIFFE_ID_HAS_PORT'],
  ];
  for (const [input, code] of broken) {
    it(`names the broken rule ${code} for ${input} and exits non-zero`, async () => {
      const out = await runCliCaptured(['id', 'parse', input, '--json']);
      assert.notEqual(out.code, 0);
      assert.equal(JSON.parse(out.stdout).error.code, code);
    });
  }

  it('reports a missing argument as a usage error', async () => {
    const out = await runCliCaptured(['--json', 'id', 'parse']);
    assert.equal(out.code, 2);
    assert.equal(JSON.parse(out.stdout).error.code, 'BROKER_CLI_USAGE');
  });
});
