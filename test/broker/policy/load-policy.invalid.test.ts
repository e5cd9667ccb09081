import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../../broker/policy/load-policy.js';
import { PolicyInvalidError, type PolicyIssueKind } from '../../../broker/policy/policy-error.js';
import { baseDocument, baseRule } from './policy-fixtures.js';

/** Parses `source` and returns its issues as `path kind` strings, sorted; fails if it parses. */
function issuesOf(source: string): string[] {
  try {
    parsePolicy(source);
  } catch (err) {
    assert.ok(err instanceof PolicyInvalidError, 'a PolicyInvalidError');
    assert.equal(err.code, 'BROKER_POLICY_INVALID');
    return err.issues.map((i) => `${i.path} ${i.kind}`).sort();
  }
  assert.fail('the policy was accepted');
}

const json = (doc: unknown): string => JSON.stringify(doc, null, 2);

/** One row: a broken document and EVERY issue (path and kind) it must produce. */
interface Row {
  name: string;
  source: string;
  issues: Array<`${string} ${PolicyIssueKind}`>;
}

const rows: Row[] = [
  { name: 'a document that is not a mapping', source: '[1, 2]', issues: ['$ type'] },
  { name: 'missing version and rules', source: json({}), issues: ['rules required', 'version required'] },
  {
    name: 'an unsupported version',
    source: json(baseDocument(undefined, { version: 2 })),
    issues: ['version bad_version'],
  },
  {
    name: 'an unknown top-level key',
    source: json(baseDocument(undefined, { rulez: [] })),
    issues: ['rulez unknown_key'],
  },
  { name: 'rules that are not a list', source: json({ version: 1, rules: {} }), issues: ['rules type'] },
  {
    name: 'a rule missing every required key',
    source: json(baseDocument([{}])),
    issues: [
      'rules[0].intents required',
      'rules[0].match required',
      'rules[0].max_credential_ttl required',
      'rules[0].max_task_lifetime required',
      'rules[0].name required',
      'rules[0].providers required',
    ],
  },
  {
    name: 'an unknown rule key',
    source: json(baseDocument([baseRule({ ttl: '5m' })])),
    issues: ['rules[0].ttl unknown_key'],
  },
  {
    name: 'a bad rule name',
    source: json(baseDocument([baseRule({ name: 'Bad Name' })])),
    issues: ['rules[0].name bad_name'],
  },
  {
    name: 'duplicate rule names',
    source: json(baseDocument([baseRule(), baseRule()])),
    issues: ['rules[1].name duplicate'],
  },
  {
    name: 'a matcher with two kinds, one with none, and an unknown kind',
    source: json(
      baseDocument([
        baseRule({ match: [{ id: 'spiffe://a/b', glob: 'spiffe://a/*' }, {}, { regex: '.*' }] }),
      ]),
    ),
    issues: [
      'rules[0].match[0] bad_matcher',
      'rules[0].match[1] bad_matcher',
      'rules[0].match[2] bad_matcher',
      'rules[0].match[2].regex unknown_key',
    ],
  },
  {
    name: 'invalid ids, prefixes, trust domains and globs',
    source: json(
      baseDocument([
        baseRule({
          match: [
            { id: 'spiffe://UPPER/x' },
            { prefix: 'https://a/b' },
            { trust_domain: 'a b' },
            { glob: 'spiffe://td/agent-*' },
            { id: 42 },
          ],
        }),
      ]),
    ),
    issues: [
      'rules[0].match[0].id bad_matcher',
      'rules[0].match[1].prefix bad_matcher',
      'rules[0].match[2].trust_domain bad_matcher',
      'rules[0].match[3].glob bad_matcher',
      'rules[0].match[4].id type',
    ],
  },
  {
    name: 'an empty matcher list',
    source: json(baseDocument([baseRule({ match: [] })])),
    issues: ['rules[0].match empty'],
  },
  {
    name: 'bad and duplicate intents',
    source: json(baseDocument([baseRule({ intents: ['ok', 'Not OK', 'ok', 7] })])),
    issues: ['rules[0].intents[1] bad_name', 'rules[0].intents[2] duplicate', 'rules[0].intents[3] type'],
  },
  {
    name: 'bad scopes, a bad provider name and an unknown grant key',
    source: json(
      baseDocument([
        baseRule({
          providers: {
            'crm-api': { scopes: ['crm:read', '*', 'a*b', 'has space', ''], ttl: '1m' },
            'Bad Provider': { scopes: ['x'] },
            'no-scopes': { scopes: [] },
          },
        }),
      ]),
    ),
    issues: [
      'rules[0].providers["Bad Provider"] bad_name',
      'rules[0].providers.crm-api.scopes[1] bad_scope',
      'rules[0].providers.crm-api.scopes[2] bad_scope',
      'rules[0].providers.crm-api.scopes[3] bad_scope',
      'rules[0].providers.crm-api.scopes[4] bad_scope',
      'rules[0].providers.crm-api.ttl unknown_key',
      'rules[0].providers.no-scopes.scopes empty',
    ],
  },
  {
    name: 'bad durations',
    source: json(
      baseDocument([
        baseRule({
          max_credential_ttl: '5 minutes',
          max_task_lifetime: true,
          providers: { 'crm-api': { scopes: ['x'], max_ttl: '0s' } },
        }),
      ]),
    ),
    issues: [
      'rules[0].max_credential_ttl bad_duration',
      'rules[0].max_task_lifetime type',
      'rules[0].providers.crm-api.max_ttl bad_duration',
    ],
  },
  {
    name: 'bad quotas and flags',
    source: json(
      baseDocument([
        baseRule({
          quotas: { active_tasks: 0, credentials_per_task: 2.5, issuance_rate: { per_second: -1 }, max: 1 },
          require_approval: 'yes',
          jwt_svid_replay_protection: 1,
        }),
      ]),
    ),
    issues: [
      'rules[0].jwt_svid_replay_protection type',
      'rules[0].quotas.active_tasks bad_number',
      'rules[0].quotas.credentials_per_task bad_number',
      'rules[0].quotas.issuance_rate.burst required',
      'rules[0].quotas.issuance_rate.per_second bad_number',
      'rules[0].quotas.max unknown_key',
      'rules[0].require_approval type',
    ],
  },
  {
    name: 'bad roles',
    source: json(baseDocument(undefined, { roles: { operators: [{ id: 'nope' }], admins: [] } })),
    issues: ['roles.admins unknown_key', 'roles.operators[0].id bad_matcher'],
  },
  { name: 'duplicate YAML keys', source: 'version: 1\nversion: 1\nrules: []\n', issues: ['$ syntax'] },
  { name: 'broken YAML', source: 'version: 1\nrules: [\n', issues: ['$ syntax'] },
];

describe('parsePolicy: invalid files list every problem with its location', () => {
  for (const row of rows) {
    it(`rejects ${row.name}`, () => {
      assert.deepEqual(issuesOf(row.source), [...row.issues].sort());
    });
  }

  it('collects problems across several rules and gives each a line number', () => {
    const source = [
      'version: 1',
      'rules:',
      '  - name: one',
      '    match: { glob: "spiffe://td/*" }',
      '    intents: [read]',
      '    providers: { crm-api: { scopes: ["crm:read"] } }',
      '    max_credential_ttl: forever',
      '    max_task_lifetime: 30m',
      '  - name: two',
      '    match: { id: "spiffe://td/x" }',
      '    intents: [read]',
      '    providers: { crm-api: { scopes: ["crm:read", "*"] } }',
      '    max_credential_ttl: 5m',
      '    max_task_lifetime: 30m',
      '    colour: blue',
      '',
    ].join('\n');
    try {
      parsePolicy(source);
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof PolicyInvalidError);
      const found = err.issues.map((i) => [i.path, i.kind, i.line]);
      assert.deepEqual(found, [
        ['rules[0].max_credential_ttl', 'bad_duration', 7],
        ['rules[1].colour', 'unknown_key', 15],
        ['rules[1].providers.crm-api.scopes[1]', 'bad_scope', 12],
      ]);
      assert.match(err.message, /rules\[1\]\.colour \(line 15:/);
    }
  });

  it('reports the line of a YAML syntax error', () => {
    try {
      parsePolicy('version: 1\nrules: []\nrules: []\n');
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof PolicyInvalidError);
      assert.equal(err.issues[0]?.line, 3);
    }
  });
});
