import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addDeniedSession,
  deniesSession,
  parseDenyPolicy,
  renderDenyPolicy,
} from '../../../adapters/aws-sts/deny-policy.js';

const POLICY = { taskTag: 'task-a', sessions: ['tp-a-2', 'tp-a-1'], cleanupAfter: 1740830700 };

describe('aws-sts deny policy document', () => {
  it('denies everything to the listed sessions of the task, with the cleanup time in the Sid', () => {
    assert.deepEqual(JSON.parse(renderDenyPolicy(POLICY)), {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TaskpassRevokeUntil1740830700',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: {
              'aws:PrincipalTag/taskpass:task_id': 'task-a',
              'aws:PrincipalTag/taskpass:session': ['tp-a-1', 'tp-a-2'],
            },
          },
        },
      ],
    });
  });

  it('reads back what it renders, raw or URL-encoded as IAM returns it', () => {
    const rendered = renderDenyPolicy(POLICY);
    const expected = { ...POLICY, sessions: ['tp-a-1', 'tp-a-2'] };
    assert.deepEqual(parseDenyPolicy(rendered), expected);
    assert.deepEqual(parseDenyPolicy(encodeURIComponent(rendered)), expected);
    const single = renderDenyPolicy({ ...POLICY, sessions: ['tp-a-1'] });
    assert.deepEqual(parseDenyPolicy(single)?.sessions, ['tp-a-1']);
  });

  const statement = JSON.parse(renderDenyPolicy(POLICY)).Statement[0];
  const foreign: [string, unknown][] = [
    ['not json', 'deny everything'],
    ['two statements', { Version: '2012-10-17', Statement: [statement, statement] }],
    ['an allow', { Statement: [{ ...statement, Effect: 'Allow' }] }],
    ['a narrower action', { Statement: [{ ...statement, Action: 's3:*' }] }],
    ['another sid', { Statement: [{ ...statement, Sid: 'OperatorDeny' }] }],
    ['no condition', { Statement: [{ ...statement, Condition: undefined }] }],
    [
      'an extra condition key',
      {
        Statement: [
          {
            ...statement,
            Condition: { StringEquals: { ...statement.Condition.StringEquals, 'aws:SourceIp': '1.2.3.4' } },
          },
        ],
      },
    ],
    [
      'no session list',
      {
        Statement: [
          { ...statement, Condition: { StringEquals: { 'aws:PrincipalTag/taskpass:task_id': 'x', y: 'z' } } },
        ],
      },
    ],
    [
      'an empty session list',
      {
        Statement: [
          {
            ...statement,
            Condition: {
              StringEquals: {
                'aws:PrincipalTag/taskpass:task_id': 'x',
                'aws:PrincipalTag/taskpass:session': [],
              },
            },
          },
        ],
      },
    ],
  ];
  for (const [name, doc] of foreign) {
    it(`does not take a foreign policy for one of its own: ${name}`, () => {
      assert.equal(parseDenyPolicy(typeof doc === 'string' ? doc : JSON.stringify(doc)), undefined);
    });
  }

  it('adds sessions without duplicates and only ever pushes the cleanup time later', () => {
    const first = addDeniedSession(undefined, 'task-a', 'tp-a-1', 100);
    assert.deepEqual(first, { taskTag: 'task-a', sessions: ['tp-a-1'], cleanupAfter: 100 });
    const again = addDeniedSession(first, 'task-a', 'tp-a-1', 50);
    assert.deepEqual(again, first);
    const second = addDeniedSession(first, 'task-a', 'tp-a-0', 200);
    assert.deepEqual(second, { taskTag: 'task-a', sessions: ['tp-a-0', 'tp-a-1'], cleanupAfter: 200 });
    assert.equal(deniesSession(second, 'task-a', 'tp-a-0'), true);
    assert.equal(deniesSession(second, 'task-b', 'tp-a-0'), false);
    assert.equal(deniesSession(second, 'task-a', 'tp-a-9'), false);
    assert.equal(deniesSession(undefined, 'task-a', 'tp-a-0'), false);
  });
});
