// Revocation over gRPC against the real app: an operator revokes a task, the task token stops
// introspecting as active, and a resource server watching the feed sees it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { bearer, DEV_WORKLOAD, startHarness, type Harness, type TestClient } from './harness.js';

const START = {
  intent: { name: 'summarize-ticket', text: 'ticket 9' },
  manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
};

interface FeedEvent {
  seq: string;
  type: string;
  task_id?: string;
  credential_id?: string;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

describe('taskpass.v1.Broker revocation against the real app', { timeout: 60_000 }, () => {
  let h: Harness;
  let client: TestClient;
  const md = async () => bearer(await h.jwt(DEV_WORKLOAD));

  before(async () => {
    h = await startHarness();
    client = h.unixClient();
  });
  after(() => h.close());

  it('revokes a task for an operator, and the feed and introspection show it', async () => {
    const raw = client.raw as unknown as Record<
      string,
      (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<FeedEvent>
    >;
    const stream = raw['WatchRevocations']!.call(client.raw, {}, await md());
    const seen: FeedEvent[] = [];
    stream.on('data', (e: FeedEvent) => seen.push(e));
    stream.on('error', () => undefined);

    const task = (await client.call<{ id: string }>('StartTask', START, await md())).value!;
    const issued = await client.call<{ credential: { id: string }; secret: string }>(
      'IssueCredential',
      { task_id: task.id, provider: 'crm-api', scopes: ['crm:read'] },
      await md(),
    );
    assert.equal(issued.status, undefined, issued.details);

    const revoked = await client.call<{
      revocation_id: string;
      tasks: string[];
      credentials: { id: string }[];
    }>('Revoke', { task_id: task.id, reason: 'incident 7' }, await md());
    assert.equal(revoked.status, undefined, revoked.details);
    assert.deepEqual(revoked.value!.tasks, [task.id]);
    assert.deepEqual(
      revoked.value!.credentials.map((c) => c.id),
      [issued.value!.credential.id],
    );

    const shown = await client.call<{ status: string }>('GetTask', { id: task.id }, await md());
    assert.equal(shown.value!.status, 'revoked');
    const inactive = await client.call<{ active?: boolean }>(
      'Introspect',
      { token: issued.value!.secret },
      await md(),
    );
    assert.equal(inactive.value!.active ?? false, false);

    await until(() => seen.some((e) => e.task_id === task.id && e.type === 'task.revoked'));
    await until(() => seen.some((e) => e.credential_id === issued.value!.credential.id));
    const seqs = seen.map((e) => BigInt(e.seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      'ledger order',
    );
    stream.cancel();
  });

  it('quarantines a workload, lists it, and lifts it', async () => {
    const agent = 'spiffe://taskpass.local/agents/quarantined';
    const q = await client.call<{ quarantine: { workload: string; by: string } }>(
      'Quarantine',
      { workload: agent, reason: 'prompt injection' },
      await md(),
    );
    assert.equal(q.status, undefined, q.details);
    assert.equal(q.value!.quarantine.workload, agent);
    const list = await client.call<{ quarantines: { workload: string }[] }>(
      'ListQuarantines',
      {},
      await md(),
    );
    assert.ok(list.value!.quarantines.some((e) => e.workload === agent));
    const lifted = await client.call('LiftQuarantine', { workload: agent, reason: 'cleaned up' }, await md());
    assert.equal(lifted.status, undefined, lifted.details);
    const after = await client.call<{ quarantines?: { workload: string }[] }>(
      'ListQuarantines',
      {},
      await md(),
    );
    assert.ok(!(after.value!.quarantines ?? []).some((e) => e.workload === agent));
  });
});
