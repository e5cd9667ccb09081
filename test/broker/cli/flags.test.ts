import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifestFlags } from '../../../broker/cli/manifest-flag.js';
import { parseSelectorFlag } from '../../../broker/cli/selector-flag.js';
import { formatTable } from '../../../broker/cli/table.js';
import { DEFAULT_AUDIENCE, DEFAULT_BROKER_URL } from '../../../broker/cli/dev-defaults.js';
import { DEV_HTTP_PORT } from '../../../broker/cli/commands/dev.js';
import { parseConfig } from '../../../broker/config.js';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('--manifest PROVIDER:SCOPE[,SCOPE…]', () => {
  it('parses valid entries, splitting the provider at the first colon', () => {
    const cases: [string[], unknown][] = [
      [['crm-api:crm:read'], [{ provider: 'crm-api', scopes: ['crm:read'] }]],
      [['crm-api:crm:read,crm:write'], [{ provider: 'crm-api', scopes: ['crm:read', 'crm:write'] }]],
      [
        ['a:x', 'b.c_d:y'],
        [
          { provider: 'a', scopes: ['x'] },
          { provider: 'b.c_d', scopes: ['y'] },
        ],
      ],
      [['vault-kv:read:secret/data/*'], [{ provider: 'vault-kv', scopes: ['read:secret/data/*'] }]],
      [[], []],
    ];
    for (const [input, expected] of cases)
      assert.deepEqual(parseManifestFlags(input), expected, input.join(' '));
  });

  it('refuses malformed entries with BROKER_CLI_USAGE', () => {
    for (const bad of [
      'crm-api',
      ':crm:read',
      'crm api:x',
      'crm-api:a,,b',
      'crm-api:a,',
      'crm-api:,a',
      'crm-api:a b',
      '',
    ]) {
      assert.equal(
        codeOf(() => parseManifestFlags([bad])),
        'BROKER_CLI_USAGE',
        JSON.stringify(bad),
      );
    }
  });
});

describe('--selector key=value,…', () => {
  it('maps each key to its JSON member', () => {
    assert.deepEqual(
      parseSelectorFlag(
        'prefix=spiffe://taskpass.local/agents,glob=spiffe://taskpass.local/agents/*,trust_domain=taskpass.local,provider=crm-api,started_before=2025-01-01T00:00:00Z',
      ),
      {
        spiffe_id_prefix: 'spiffe://taskpass.local/agents',
        spiffe_id_glob: 'spiffe://taskpass.local/agents/*',
        trust_domain: 'taskpass.local',
        provider: 'crm-api',
        started_before: '2025-01-01T00:00:00Z',
      },
    );
    assert.deepEqual(parseSelectorFlag(' provider = crm-api '), { provider: 'crm-api' });
    assert.deepEqual(parseSelectorFlag('started_before=2025-06-30T12:00:00.5+02:00'), {
      started_before: '2025-06-30T12:00:00.5+02:00',
    });
  });

  it('refuses malformed expressions with a code', () => {
    const cases: [string, string][] = [
      ['', 'BROKER_CLI_USAGE'],
      ['  ', 'BROKER_CLI_USAGE'],
      ['team=red', 'BROKER_CLI_USAGE'],
      ['prefix', 'BROKER_CLI_USAGE'],
      ['prefix=', 'BROKER_CLI_USAGE'],
      ['provider=a,provider=b', 'BROKER_CLI_USAGE'],
      ['provider=a,', 'BROKER_CLI_USAGE'],
      ['started_before=2025-01-01', 'BROKER_CLI_USAGE'],
      ['started_before=2025-01-01T00:00:00', 'BROKER_CLI_USAGE'],
      ['started_before=2025-13-45T99:00:00Z', 'BROKER_CLI_USAGE'],
      ['__proto__=x', 'BROKER_CLI_USAGE'],
      ['trust_domain=Bad!', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
    ];
    for (const [expr, code] of cases)
      assert.equal(
        codeOf(() => parseSelectorFlag(expr)),
        code,
        JSON.stringify(expr),
      );
  });
});

describe('CLI defaults and tables', () => {
  it("defaults to taskpass dev's broker and the broker's default audience", () => {
    assert.equal(DEFAULT_BROKER_URL, `http://127.0.0.1:${DEV_HTTP_PORT}`);
    assert.equal(DEFAULT_AUDIENCE, parseConfig({ env: {}, cwd: '/' }).audience);
  });

  it('formats rows as aligned columns, with - for absent cells', () => {
    const table = formatTable(
      [
        { id: 'a', status: 'active', n: null },
        { id: 'bbb', status: 'revoked', n: { x: 1 } },
      ],
      ['id', 'status', 'n'],
    );
    assert.equal(table, 'ID   STATUS   N\na    active   -\nbbb  revoked  {"x":1}');
    assert.equal(formatTable([], ['id']), '(none)');
  });
});
