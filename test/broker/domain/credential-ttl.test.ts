import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentialTtlSeconds, type TtlBound } from '../../../broker/domain/credential-ttl.js';
import { BrokerError, type BrokerErrorCode } from '../../../broker/errors.js';

const NOW = new Date('2025-01-01T00:00:00Z');
const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);

/** One row: the bounds (seconds from NOW for task and svid) and the expected TTL and winners. */
interface Row {
  name: string;
  requested?: number;
  policyMax: number;
  task: number;
  svid: number;
  ttl: number;
  boundBy: TtlBound[];
}

const rows: Row[] = [
  {
    name: 'the request wins',
    requested: 60,
    policyMax: 300,
    task: 1800,
    svid: 3600,
    ttl: 60,
    boundBy: ['requested'],
  },
  {
    name: 'the policy maximum wins',
    requested: 900,
    policyMax: 300,
    task: 1800,
    svid: 3600,
    ttl: 300,
    boundBy: ['policy'],
  },
  {
    name: 'the task deadline wins',
    requested: 900,
    policyMax: 900,
    task: 120,
    svid: 3600,
    ttl: 120,
    boundBy: ['task'],
  },
  {
    name: 'the svid expiry wins',
    requested: 900,
    policyMax: 900,
    task: 1800,
    svid: 45,
    ttl: 45,
    boundBy: ['svid'],
  },
  {
    name: 'no request: the policy wins',
    policyMax: 300,
    task: 1800,
    svid: 3600,
    ttl: 300,
    boundBy: ['policy'],
  },
  { name: 'no request: the svid wins', policyMax: 300, task: 1800, svid: 10, ttl: 10, boundBy: ['svid'] },
  {
    name: 'a tie between request and policy names both',
    requested: 300,
    policyMax: 300,
    task: 1800,
    svid: 3600,
    ttl: 300,
    boundBy: ['requested', 'policy'],
  },
  {
    name: 'a tie between task and svid names both',
    requested: 900,
    policyMax: 900,
    task: 100,
    svid: 100,
    ttl: 100,
    boundBy: ['task', 'svid'],
  },
  {
    name: 'a four-way tie names all four',
    requested: 60,
    policyMax: 60,
    task: 60,
    svid: 60,
    ttl: 60,
    boundBy: ['requested', 'policy', 'task', 'svid'],
  },
  {
    name: 'exactly one second left is enough',
    policyMax: 300,
    task: 1,
    svid: 3600,
    ttl: 1,
    boundBy: ['task'],
  },
];

describe('credentialTtlSeconds (DESIGN invariant 2)', () => {
  for (const row of rows) {
    it(`${row.name}`, () => {
      const result = credentialTtlSeconds({
        requested: row.requested,
        policyMax: row.policyMax,
        taskDeadline: at(row.task),
        svidExpiresAt: at(row.svid),
        now: NOW,
      });
      assert.equal(result.ttlSeconds, row.ttl);
      assert.deepEqual(result.boundBy, row.boundBy);
      assert.equal(result.expiresAt.getTime(), at(row.ttl).getTime());
      assert.ok(result.expiresAt <= at(row.task) && result.expiresAt <= at(row.svid));
      assert.match(result.explanation, new RegExp(`^ttl ${row.ttl}s bounded by ${row.boundBy[0]}`));
    });
  }

  it('rounds remaining lifetimes down so the expiry never passes the deadline', () => {
    const result = credentialTtlSeconds({
      policyMax: 300,
      taskDeadline: new Date(NOW.getTime() + 90_900),
      svidExpiresAt: at(3600),
      now: NOW,
    });
    assert.equal(result.ttlSeconds, 90);
    assert.deepEqual(result.bounds, { policy: 300, task: 90, svid: 3600 });
  });

  const refusals: Array<{
    name: string;
    code: BrokerErrorCode;
    input: Partial<Parameters<typeof credentialTtlSeconds>[0]>;
  }> = [
    { name: 'an expired task', code: 'BROKER_ISSUANCE_TASK_EXPIRED', input: { taskDeadline: at(-1) } },
    { name: 'a task ending exactly now', code: 'BROKER_ISSUANCE_TASK_EXPIRED', input: { taskDeadline: NOW } },
    { name: 'an expired svid', code: 'BROKER_ISSUANCE_SVID_EXPIRED', input: { svidExpiresAt: at(-30) } },
    {
      name: 'an svid expiring exactly now',
      code: 'BROKER_ISSUANCE_SVID_EXPIRED',
      input: { svidExpiresAt: NOW },
    },
    {
      name: 'both expired: the svid is reported',
      code: 'BROKER_ISSUANCE_SVID_EXPIRED',
      input: { svidExpiresAt: at(-1), taskDeadline: at(-1) },
    },
    {
      name: 'less than a second left',
      code: 'BROKER_ISSUANCE_TTL_TOO_SHORT',
      input: { taskDeadline: new Date(NOW.getTime() + 500) },
    },
    {
      name: 'a result under a custom minimum',
      code: 'BROKER_ISSUANCE_TTL_TOO_SHORT',
      input: { minimum: 30, svidExpiresAt: at(29) },
    },
    { name: 'a zero request', code: 'BROKER_INPUT_INVALID', input: { requested: 0 } },
    { name: 'a negative request', code: 'BROKER_INPUT_INVALID', input: { requested: -5 } },
    { name: 'a fractional request', code: 'BROKER_INPUT_INVALID', input: { requested: 1.5 } },
    { name: 'a NaN request', code: 'BROKER_INPUT_INVALID', input: { requested: Number.NaN } },
    { name: 'a zero policy maximum', code: 'BROKER_INTERNAL', input: { policyMax: 0 } },
  ];
  for (const row of refusals) {
    it(`refuses ${row.name} with ${row.code}`, () => {
      const input = {
        policyMax: 300,
        taskDeadline: at(1800),
        svidExpiresAt: at(3600),
        now: NOW,
        ...row.input,
      };
      assert.throws(
        () => credentialTtlSeconds(input),
        (err: unknown) => err instanceof BrokerError && err.code === row.code,
      );
    });
  }
});
