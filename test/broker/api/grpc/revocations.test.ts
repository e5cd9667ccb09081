// The operator revocation RPCs and WatchRevocations: requests mapped to the RevocationPort and the
// RevocationFeedPort (recording fakes: the suite is about the transport), answers mapped back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { BrokerError } from '../../../../broker/errors.js';
import { event, FakeRevocations, RESULT } from './fake-revocations.js';
import {
  AGENT,
  bearer,
  DEV_WORKLOAD,
  startHarness,
  withoutVirtualFields,
  type Harness,
  type TestClient,
} from './harness.js';

const { status } = grpc;
const TASK = '22222222-2222-4222-8222-222222222222';

describe('taskpass.v1.Broker revocation RPCs', { timeout: 60_000 }, () => {
  let h: Harness;
  let client: TestClient;
  const fake = new FakeRevocations(DEV_WORKLOAD);
  const operator = async () => bearer(await h.jwt(DEV_WORKLOAD));

  before(async () => {
    h = await startHarness({ ports: (p) => ({ ...p, revocations: fake.port, revocationFeed: fake.feed }) });
    client = h.unixClient();
  });
  after(() => h.close());

  const targets: readonly [name: string, request: object, target: object][] = [
    [
      'a credential',
      { credential_id: RESULT.credentials[0]!.id },
      { kind: 'credential', credentialId: RESULT.credentials[0]!.id },
    ],
    ['a task', { task_id: TASK }, { kind: 'task', taskId: TASK }],
    [
      'a selector',
      {
        selector: {
          provider: 'crm-api',
          trust_domain: 'taskpass.local',
          started_before: '2030-01-01T00:00:00Z',
        },
      },
      {
        kind: 'selector',
        selector: {
          provider: 'crm-api',
          trustDomain: 'taskpass.local',
          startedBefore: new Date('2030-01-01T00:00:00Z'),
        },
      },
    ],
  ];
  for (const [name, request, target] of targets) {
    it(`revokes ${name}, passing the target and reason to the port`, async () => {
      const out = await client.call<Record<string, unknown>>(
        'Revoke',
        { ...request, reason: 'incident 42', confirm: true },
        await operator(),
      );
      assert.equal(out.status, undefined, out.details);
      assert.deepEqual(fake.calls.at(-1)?.input, { target, reason: 'incident 42', confirm: true });
      assert.deepEqual(out.value, {
        revocation_id: RESULT.revocationId,
        tasks: [TASK],
        credentials: [
          {
            id: RESULT.credentials[0]!.id,
            task_id: TASK,
            provider: 'crm-api',
            outcome: 'not_revocable',
            expires_at: '2030-01-01T00:05:00.000Z',
          },
        ],
        counts: { revoked: 0, pending: 0, not_revocable: 1 },
        exposed_until: '2030-01-01T00:05:00.000Z',
      });
    });
  }

  it('revokes a workload by its parsed SPIFFE ID', async () => {
    await client.call('Revoke', { workload: AGENT, reason: 'compromised' }, await operator());
    const input = fake.calls.at(-1)?.input as { target: { kind: string; workload: { toString(): string } } };
    assert.equal(input.target.kind, 'workload');
    assert.equal(input.target.workload.toString(), AGENT);
  });

  const bad: readonly [name: string, request: object, code: string][] = [
    ['no target', { reason: 'x' }, 'BROKER_INPUT_INVALID'],
    ['no reason', { task_id: TASK }, 'BROKER_INPUT_INVALID'],
    ['a reason over 1024 characters', { task_id: TASK, reason: 'r'.repeat(1025) }, 'BROKER_INPUT_INVALID'],
    ['a malformed task id', { task_id: 'task-1', reason: 'x' }, 'BROKER_INPUT_INVALID'],
    ['a workload that is not a SPIFFE ID', { workload: 'agent-7', reason: 'x' }, 'SPIFFE_ID_WRONG_SCHEME'],
    [
      'a selector time that is not RFC 3339',
      { selector: { started_before: 'last week' }, reason: 'x' },
      'BROKER_INPUT_INVALID',
    ],
    [
      'a selector trust domain with a port',
      { selector: { trust_domain: 'td:8080' }, reason: 'x' },
      'SPIFFE_ID_HAS_PORT',
    ],
  ];
  for (const [name, request, code] of bad) {
    it(`refuses ${name} before calling the port`, async () => {
      const calls = fake.calls.length;
      const out = await client.call('Revoke', request, await operator());
      assert.equal(out.status, status.INVALID_ARGUMENT);
      assert.equal(out.code, code);
      assert.equal(fake.calls.length, calls);
    });
  }

  it("maps the port's refusal of a non-operator to PERMISSION_DENIED", async () => {
    const out = await client.call('Revoke', { task_id: TASK, reason: 'x' }, bearer(await h.jwt(AGENT)));
    assert.equal(out.status, status.PERMISSION_DENIED);
    assert.equal(out.code, 'BROKER_POLICY_DENIED');
  });

  it('maps an unknown target to NOT_FOUND', async () => {
    fake.failNextWith(new BrokerError('BROKER_TASK_NOT_FOUND'));
    const out = await client.call('Revoke', { task_id: TASK, reason: 'x' }, await operator());
    assert.equal(out.status, status.NOT_FOUND);
    assert.equal(out.code, 'BROKER_TASK_NOT_FOUND');
  });

  it('quarantines, lists and lifts quarantines', async () => {
    const q = await client.call<{
      quarantine: Record<string, string>;
      revocation: { revocation_id: string };
    }>('Quarantine', { workload: AGENT, reason: 'prompt injection' }, await operator());
    assert.equal(q.status, undefined, q.details);
    assert.deepEqual(q.value!.quarantine, {
      workload: AGENT,
      reason: 'prompt injection',
      since: '2030-01-01T00:00:00.000Z',
      by: DEV_WORKLOAD,
    });
    assert.equal(q.value!.revocation.revocation_id, RESULT.revocationId);
    const list = await client.call<{ quarantines: { by: string }[] }>(
      'ListQuarantines',
      {},
      await operator(),
    );
    assert.deepEqual(
      list.value!.quarantines.map((e) => e.by),
      ['signal:7'],
    );
    const lifted = await client.call(
      'LiftQuarantine',
      { workload: AGENT, reason: 'cleaned' },
      await operator(),
    );
    assert.deepEqual(lifted.value, {});
    assert.equal(fake.calls.at(-1)?.method, 'lift');
  });

  it('lists credentials with filters and requeues failed revocations', async () => {
    const list = await client.call<{ credentials: { status: string }[]; next_cursor: string }>(
      'ListCredentials',
      { status: 'revoke_failed', limit: 5 },
      await operator(),
    );
    assert.deepEqual(fake.calls.at(-1)?.input, { status: 'revoke_failed', limit: 5 });
    assert.deepEqual(
      list.value!.credentials.map((c) => c.status),
      ['revoke_failed'],
    );
    assert.equal(list.value!.next_cursor, 'next-page');
    const bad = await client.call('ListCredentials', { status: 'lost' }, await operator());
    assert.equal(bad.code, 'BROKER_INPUT_INVALID');
    const all = await client.call<{ requeued: number }>('RetryFailedRevocations', {}, await operator());
    assert.equal(all.value!.requeued, 3);
    const one = await client.call<{ requeued: number }>(
      'RetryFailedRevocations',
      { credential_id: RESULT.credentials[0]!.id },
      await operator(),
    );
    assert.equal(one.value!.requeued, 1);
  });
});

/** Opens WatchRevocations and collects what arrives. */
function watch(client: TestClient, request: object, md: grpc.Metadata) {
  const stream = (
    client.raw as unknown as Record<
      string,
      (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<{ seq: string; type: string }>
    >
  )['WatchRevocations']!.call(client.raw, request, md);
  const seen: { seq: string; type: string }[] = [];
  stream.on('data', (m: { seq: string; type: string }) => seen.push(m));
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  return { stream, seen, ended };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

describe('taskpass.v1.Broker WatchRevocations', { timeout: 60_000 }, () => {
  it('streams retained then live events, resumes after after_seq, and unsubscribes on cancel', async () => {
    const fake = new FakeRevocations(DEV_WORKLOAD);
    const h = await startHarness({ ports: (p) => ({ ...p, revocationFeed: fake.feed }) });
    try {
      const w = watch(h.unixClient(), { after_seq: '4' }, bearer(await h.jwt(DEV_WORKLOAD)));
      await until(() => w.seen.length === 1);
      assert.equal(fake.subscriptions[0]?.afterSeq, '4');
      fake.push(event('6', 'task.completed'));
      await until(() => w.seen.length === 2);
      assert.deepEqual(
        w.seen.map((e) => [e.seq, e.type]),
        [
          ['5', 'credential.revoked'],
          ['6', 'task.completed'],
        ],
      );
      // Every member of the feed event reaches the client; the null ones are absent.
      const { jti: _jti, ...present } = event('5', 'credential.revoked');
      assert.deepEqual(withoutVirtualFields(w.seen[0]), present);
      w.stream.cancel();
      assert.equal((await w.ended).code, status.CANCELLED);
      await until(() => fake.subscriptions[0]!.unsubscribed);
    } finally {
      await h.close();
    }
  });

  it('ends the stream with the mapped status when the feed fails, and refuses bad input and callers', async () => {
    const fake = new FakeRevocations(DEV_WORKLOAD);
    const h = await startHarness({ ports: (p) => ({ ...p, revocationFeed: fake.feed }) });
    try {
      const w = watch(h.unixClient(), {}, bearer(await h.jwt(DEV_WORKLOAD)));
      await until(() => w.seen.length === 1);
      fake.breakFeed(new BrokerError('BROKER_STORE_UNAVAILABLE'));
      const err = await w.ended;
      assert.equal(err.code, status.UNAVAILABLE);
      assert.deepEqual(err.metadata.get('taskpass-error-code'), ['BROKER_STORE_UNAVAILABLE']);
      assert.equal(fake.subscriptions[0]!.unsubscribed, true);

      const badSeq = await watch(h.unixClient(), { after_seq: '-1' }, bearer(await h.jwt(DEV_WORKLOAD)))
        .ended;
      assert.equal(badSeq.code, status.INVALID_ARGUMENT);
      const denied = await watch(h.unixClient(), {}, bearer(await h.jwt(AGENT))).ended;
      assert.equal(denied.code, status.PERMISSION_DENIED);
      const anonymous = await watch(h.unixClient(), {}, new grpc.Metadata()).ended;
      assert.equal(anonymous.code, status.UNAUTHENTICATED);
    } finally {
      await h.close();
    }
  });

  it('ends open streams UNAVAILABLE (BROKER_GRPC_SHUTTING_DOWN) when the server stops', async () => {
    const fake = new FakeRevocations(DEV_WORKLOAD);
    const h = await startHarness({ ports: (p) => ({ ...p, revocationFeed: fake.feed }) });
    const w = watch(h.unixClient(), {}, bearer(await h.jwt(DEV_WORKLOAD)));
    await until(() => w.seen.length === 1);
    await h.server.stop();
    const err = await w.ended;
    assert.equal(err.code, status.UNAVAILABLE);
    assert.deepEqual(err.metadata.get('taskpass-error-code'), ['BROKER_GRPC_SHUTTING_DOWN']);
    assert.equal(fake.subscriptions[0]!.unsubscribed, true);
    await h.close();
  });

  it('answers UNIMPLEMENTED when the broker has no revocation feed', async () => {
    const h = await startHarness({ ports: ({ revocationFeed: _feed, ...p }) => p });
    try {
      const err = await watch(h.unixClient(), {}, bearer(await h.jwt(DEV_WORKLOAD))).ended;
      assert.equal(err.code, status.UNIMPLEMENTED);
      assert.deepEqual(err.metadata.get('taskpass-error-code'), ['BROKER_GRPC_UNIMPLEMENTED']);
    } finally {
      await h.close();
    }
  });
});
