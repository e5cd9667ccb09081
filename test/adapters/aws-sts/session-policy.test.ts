import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScopeMap, type AwsScopeGrant } from '../../../adapters/aws-sts/scope-map.js';
import { buildSessionPolicy, SESSION_POLICY_MAX_CHARS } from '../../../adapters/aws-sts/session-policy.js';

function scopeMap(raw: Record<string, unknown>): ReadonlyMap<string, AwsScopeGrant> {
  const problems: string[] = [];
  const map = parseScopeMap(raw, true, problems);
  assert.deepEqual(problems, []);
  return map;
}

const MAP = scopeMap({
  'reports:read': {
    actions: ['s3:ListBucket', 's3:GetObject'],
    resources: ['arn:aws:s3:::reports/*', 'arn:aws:s3:::reports'],
  },
  'reports:write': {
    actions: ['s3:PutObject'],
    resources: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'],
  },
  'crm:write': {
    actions: ['dynamodb:PutItem'],
    resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/crm'],
  },
  'logs:any': { actions: ['logs:PutLogEvents', 'logs:CreateLogStream'], resources: ['*'] },
});

const statements = (json: string) => (JSON.parse(json) as { Statement: unknown[] }).Statement;

describe('aws-sts session policy builder', () => {
  const cases: [string, string[], unknown[]][] = [
    [
      'one scope: its statement only',
      ['crm:write'],
      [
        {
          Effect: 'Allow',
          Action: 'dynamodb:PutItem',
          Resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/crm',
        },
      ],
    ],
    [
      'two scopes on the same resources share a statement with the union of actions',
      ['reports:read', 'reports:write'],
      [
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'],
          Resource: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'],
        },
      ],
    ],
    [
      'scopes on different resources stay apart, in grant order',
      ['logs:any', 'crm:write'],
      [
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: 'dynamodb:PutItem',
          Resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/crm',
        },
      ],
    ],
  ];
  for (const [name, granted, expected] of cases) {
    it(name, () => {
      const json = buildSessionPolicy(MAP, granted);
      assert.equal((JSON.parse(json) as { Version: string }).Version, '2012-10-17');
      assert.deepEqual(statements(json), expected);
    });
  }

  it('never grants what a scope outside the grant maps', () => {
    const json = buildSessionPolicy(MAP, ['reports:read']);
    assert.ok(!json.includes('s3:PutObject'));
    assert.ok(!json.includes('dynamodb'));
  });

  it('is deterministic: the same grant gives the same document', () => {
    assert.equal(
      buildSessionPolicy(MAP, ['reports:read', 'crm:write']),
      buildSessionPolicy(MAP, ['reports:read', 'crm:write']),
    );
  });

  const refused: [string, ReadonlyMap<string, AwsScopeGrant>, string[]][] = [
    ['an empty grant', MAP, []],
    ['a scope not in the map', MAP, ['reports:delete']],
    ['one unknown among known scopes', MAP, ['reports:read', 'billing:read']],
    [
      'a document over 2048 characters',
      scopeMap(
        Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [
            `s${i}`,
            { actions: ['s3:GetObject'], resources: [`arn:aws:s3:::bucket-${i}/a/long/prefix/*`] },
          ]),
        ),
      ),
      Array.from({ length: 30 }, (_, i) => `s${i}`),
    ],
  ];
  for (const [name, map, granted] of refused) {
    it(`refuses ${name} with BAD_REQUEST`, () => {
      assert.throws(() => buildSessionPolicy(map, granted), { code: 'BROKER_ADAPTER_BAD_REQUEST' });
    });
  }

  it('accepts a document of exactly the limit', () => {
    const base = buildSessionPolicy(
      scopeMap({ s: { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b'] } }),
      ['s'],
    );
    const pad = 'x'.repeat(SESSION_POLICY_MAX_CHARS - base.length);
    const map = scopeMap({ s: { actions: ['s3:GetObject'], resources: [`arn:aws:s3:::b${pad}`] } });
    assert.equal(buildSessionPolicy(map, ['s']).length, SESSION_POLICY_MAX_CHARS);
  });
});
