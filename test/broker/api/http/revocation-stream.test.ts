// GET /v1/revocations/stream over the real app and real HTTP (PGlite, the development CA).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT, DEV_WORKLOAD, startLiveBroker, TOOL, type LiveBroker } from '../../../support/live-broker.js';
import { openSse, type SseReader } from '../../../support/sse-reader.js';

const PATH = '/v1/revocations/stream';

describe('GET /v1/revocations/stream', { timeout: 60_000 }, () => {
  let broker: LiveBroker;
  const open: SseReader[] = [];
  before(async () => {
    broker = await startLiveBroker();
  });
  after(async () => {
    for (const r of open) r.close();
    await broker?.stop();
  });

  const stream = async (id: string, headers: Record<string, string> = {}, query = '') => {
    const r = await openSse(`${broker.url}${PATH}${query}`, { ...(await broker.bearer(id)), ...headers });
    open.push(r);
    return r;
  };
  const data = (r: SseReader) =>
    r.events.filter((e) => e.type !== 'caught_up').map((e) => JSON.parse(e.data) as Record<string, string>);

  it('refuses callers without the resource-server or operator role, and malformed positions', async () => {
    const cases: [string, Record<string, string>, string, number, string][] = [
      ['no credentials', {}, '', 401, 'BROKER_AUTH_MISSING'],
      ['not a bearer token', { authorization: 'Basic dXNlcjpwYXNz' }, '', 401, 'BROKER_AUTH_INVALID'],
      [
        'svid for another audience',
        { authorization: `Bearer ${await broker.svid(TOOL, 'crm-api')}` },
        '',
        401,
        'BROKER_AUTH_INVALID',
      ],
      ['workload without the role', await broker.bearer(AGENT), '', 403, 'BROKER_POLICY_DENIED'],
      [
        'malformed Last-Event-ID',
        { ...(await broker.bearer(TOOL)), 'last-event-id': 'abc' },
        '',
        400,
        'BROKER_INPUT_INVALID',
      ],
      [
        'negative Last-Event-ID',
        { ...(await broker.bearer(TOOL)), 'last-event-id': '-1' },
        '',
        400,
        'BROKER_INPUT_INVALID',
      ],
      ['malformed ?after', await broker.bearer(TOOL), '?after=1e3', 400, 'BROKER_INPUT_INVALID'],
      ['unknown parameter', await broker.bearer(TOOL), '?since=1', 400, 'BROKER_INPUT_INVALID'],
    ];
    for (const [name, headers, query, status, code] of cases) {
      const res = await broker.http.inject({ method: 'GET', url: `${PATH}${query}`, headers });
      assert.equal(res.statusCode, status, `${name}: ${res.body}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, code, name);
      if (status === 401) assert.match(String(res.headers['www-authenticate']), /^Bearer /, name);
    }
  });

  it('streams the catch-up, then caught_up, then live events, to a resource server and an operator', async () => {
    const before = await broker.taskWithToken();
    for (const id of [TOOL, DEV_WORKLOAD]) {
      const r = await stream(id);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
      assert.equal(r.headers.get('cache-control'), 'no-cache, no-transform');
      await r.until(() => r.events.some((e) => e.type === 'caught_up'));
      assert.deepEqual(r.retries, [2000]);
    }
    const r = open[0]!;
    const caughtUp = r.events.length;
    await broker.complete(before.taskId);
    await r.until(() => data(r).some((e) => e.type === 'task.completed' && e.task_id === before.taskId));
    const live = r.events.slice(caughtUp);
    const completed = live.find((e) => e.type === 'task.completed')!;
    const body = JSON.parse(completed.data) as Record<string, string>;
    assert.equal(completed.lastEventId, body.seq, 'id: is the seq');
    assert.equal(body.task_id, before.taskId);
    assert.match(body.occurred_at!, /^\d{4}-\d\d-\d\dT/);
  });

  it('resumes after Last-Event-ID (or ?after=), replaying exactly what followed', async () => {
    const a = await broker.taskWithToken();
    const b = await broker.taskWithToken();
    const first = await stream(TOOL);
    await broker.complete(a.taskId);
    await first.until(() => data(first).some((e) => e.task_id === a.taskId));
    const resumeFrom = first.events.at(-1)!.lastEventId;
    first.close();
    await broker.complete(b.taskId);
    const resumes: { headers: Record<string, string>; query: string }[] = [
      { headers: { 'last-event-id': resumeFrom }, query: '' },
      { headers: {}, query: `?after=${resumeFrom}` },
    ];
    for (const resume of resumes) {
      const again = await stream(TOOL, resume.headers, resume.query);
      await again.until(() => again.events.some((e) => e.type === 'caught_up'));
      const replayed = data(again);
      assert.ok(
        replayed.every((e) => BigInt(e.seq!) > BigInt(resumeFrom)),
        'nothing at or before the resume point',
      );
      assert.ok(replayed.some((e) => e.type === 'task.completed' && e.task_id === b.taskId));
      assert.ok(!replayed.some((e) => e.task_id === a.taskId));
      const seqs = replayed.map((e) => BigInt(e.seq!));
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => (x < y ? -1 : 1)),
        'in order',
      );
    }
    const header = await stream(TOOL, { 'last-event-id': resumeFrom }, '?after=0');
    await header.until(() => header.events.some((e) => e.type === 'caught_up'));
    assert.ok(!data(header).some((e) => e.task_id === a.taskId), 'Last-Event-ID wins over ?after=');
  });

  it('ends open streams when the broker stops', async () => {
    const own = await startLiveBroker();
    try {
      const r = await openSse(`${own.url}${PATH}`, await own.bearer(TOOL));
      await r.until(() => r.events.some((e) => e.type === 'caught_up'));
      await own.stop();
      await r.ended;
    } finally {
      await own.stop();
    }
  });
});
