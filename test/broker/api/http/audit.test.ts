import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, toCsv } from '../../../../broker/api/http/csv.js';
import { bearer, harness, ledgerEvent, TOKENS, WORKLOAD } from './fakes.js';

const AUDITOR = bearer(TOKENS.operator);
const HEADER =
  'seq,occurred_at,type,workload,task_id,credential_id,provider,decision,reason,rule,chain_pos,hash,details';

describe('GET /v1/audit/events', () => {
  it('returns events as JSON with the next cursor in the body and a Link header', async () => {
    const { app, fake } = harness();
    fake.events = [ledgerEvent(1), ledgerEvent(2), ledgerEvent(3)];
    const res = await app.inject({
      method: 'GET',
      url: '/v1/audit/events?limit=2&task_id=task-1',
      headers: AUDITOR,
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.events.length, 2);
    assert.equal(body.next_cursor, 'cursor-2');
    assert.deepEqual(body.events[0], {
      seq: 1,
      occurred_at: '2025-01-01T00:00:01.000Z',
      type: 'credential.issued',
      workload: WORKLOAD.toString(),
      task_id: 'task-1',
      credential_id: 'cred-1',
      provider: 'crm-api',
      decision: 'allow',
      reason: null,
      rule: 'agents',
      chain_pos: 1,
      hash: 'cd'.repeat(32),
      details: { ttl_seconds: 300 },
    });
    assert.equal(res.headers.link, '</v1/audit/events?limit=2&task_id=task-1&cursor=cursor-2>; rel="next"');
  });

  it('turns every filter into a typed store query', async () => {
    const { app, fake } = harness();
    const qs =
      `workload=${encodeURIComponent(WORKLOAD.toString())}&task_id=t1&credential_id=c1&provider=crm-api` +
      '&type=task.started&type=credential.issued&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&cursor=abc&limit=50';
    const res = await app.inject({ method: 'GET', url: `/v1/audit/events?${qs}`, headers: AUDITOR });
    assert.equal(res.statusCode, 200, res.body);
    const q = fake.auditQueries[0];
    assert.ok(q?.workload?.equals(WORKLOAD));
    assert.deepEqual(
      { ...q, workload: undefined },
      {
        workload: undefined,
        taskId: 't1',
        credentialId: 'c1',
        provider: 'crm-api',
        types: ['task.started', 'credential.issued'],
        from: new Date('2025-01-01T00:00:00Z'),
        to: new Date('2025-01-02T00:00:00Z'),
        cursor: 'abc',
        limit: 50,
      },
    );
  });

  it('accepts a single type filter', async () => {
    const { app, fake } = harness();
    await app.inject({ method: 'GET', url: '/v1/audit/events?type=task.failed', headers: AUDITOR });
    assert.deepEqual(fake.auditQueries[0]?.types, ['task.failed']);
  });

  for (const [how, url, headers] of [
    ['?format=csv', '/v1/audit/events?format=csv', AUDITOR],
    ['Accept: text/csv', '/v1/audit/events', { ...AUDITOR, accept: 'text/csv' }],
  ] as const) {
    it(`returns CSV with a header row for ${how}`, async () => {
      const { app, fake } = harness();
      fake.events = [
        ledgerEvent(1, { reason: '=HYPERLINK("http://evil")', details: { note: 'a,b' } }),
        ledgerEvent(2, { workload: null }),
      ];
      const res = await app.inject({ method: 'GET', url, headers });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/csv; charset=utf-8; header=present/);
      const lines = res.body.split('\r\n');
      assert.equal(lines[0], HEADER);
      assert.equal(lines.length, 4, 'header, two rows, final CRLF');
      assert.ok(
        lines[1]?.includes(`"'=HYPERLINK(""http://evil"")"`),
        'formula neutralised and quotes doubled',
      );
      assert.ok(lines[1]?.endsWith('"{""note"":""a,b""}"'));
      assert.match(lines[2] ?? '', /^2,2025-01-01T00:00:02.000Z,credential.issued,,task-1,/);
    });
  }

  it('prefers ?format=json over Accept: text/csv', async () => {
    const { app } = harness();
    const res = await app.inject({
      method: 'GET',
      url: '/v1/audit/events?format=json',
      headers: { ...AUDITOR, accept: 'text/csv' },
    });
    assert.match(res.headers['content-type'] as string, /^application\/json/);
  });

  it('refuses a caller that is not an auditor with 403', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v1/audit/events', headers: bearer() });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'BROKER_POLICY_DENIED');
  });

  it('refuses an unauthenticated caller with 401', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v1/audit/verify' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'BROKER_AUTH_MISSING');
  });
});

describe('GET /v1/audit/verify', () => {
  it('reports an intact chain', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: AUDITOR });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      ok: true,
      events: 3,
      sealed_through: 3,
      head_hash: 'ab'.repeat(32),
      unsealed: 0,
    });
  });

  it('names the first bad event of a broken chain', async () => {
    const { app, fake } = harness();
    fake.chain = {
      ok: false,
      events: 4,
      firstBadSeq: 5,
      kind: 'content_changed',
      reason: 'hash does not match',
    };
    const res = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: AUDITOR });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      ok: false,
      events: 4,
      first_bad_seq: 5,
      kind: 'content_changed',
      reason: 'hash does not match',
    });
  });
});

describe('CSV encoding (RFC 4180)', () => {
  const cases: [Parameters<typeof csvField>[0], string][] = [
    [null, ''],
    [42, '42'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    [{ a: 1 }, '"{""a"":1}"'],
  ];
  for (const [input, expected] of cases) {
    it(`encodes ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, () =>
      assert.equal(csvField(input), expected));
  }

  it('writes a header row and CRLF-terminated records', () => {
    assert.equal(toCsv(['a', 'b'], [{ a: 1, b: 'x' }]), 'a,b\r\n1,x\r\n');
  });
});
