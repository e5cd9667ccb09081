// taskpass.v1.Broker over the real app: the workload flow on the Unix socket (bearer JWT-SVID) and
// on TCP+mTLS (X509-SVID client certificate), and the auditor's view of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { fromStruct } from '../../../../spiffe/workload-api/struct-codec.js';
import type { StructMessage } from '../../../../spiffe/workload-api/proto.js';
import { bearer, DEV_WORKLOAD, startHarness, type Harness, type TestClient } from './harness.js';

interface TaskMsg {
  id: string;
  workload: string;
  status: string;
  intent: { name: string; text?: string };
  manifest: { provider: string; scopes: string[] }[];
  created_at: string;
  deadline: string;
  parent_task_id?: string;
}

interface IssuedMsg {
  credential: { id: string; task_id: string; provider: string; scopes: string[]; status: string };
  secret: string;
}

interface EventMsg {
  seq: number;
  type: string;
  task_id?: string;
  credential_id?: string;
  details: StructMessage;
}

const START = {
  intent: { name: 'summarize-ticket', text: 'ticket 123' },
  manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
  ttl_seconds: 600,
};

/** start → issue → get → introspect → complete, as one workload on one client. */
async function workloadFlow(h: Harness, client: TestClient, md: () => Promise<Metadata>) {
  const started = await client.call<TaskMsg>('StartTask', START, await md());
  assert.equal(started.status, undefined, started.details);
  const task = started.value!;
  assert.equal(task.status, 'active');
  assert.equal(task.workload, DEV_WORKLOAD);
  assert.deepEqual(task.manifest, START.manifest);
  assert.equal(task.parent_task_id, undefined);
  assert.ok(!Number.isNaN(Date.parse(task.deadline)));

  const issued = await client.call<IssuedMsg>(
    'IssueCredential',
    { task_id: task.id, provider: 'crm-api', scopes: ['crm:read'] },
    await md(),
  );
  assert.equal(issued.status, undefined, issued.details);
  assert.equal(issued.value!.credential.status, 'active');
  assert.equal(issued.value!.credential.task_id, task.id);
  assert.ok(issued.value!.secret.length > 0);

  const shown = await client.call<TaskMsg>('GetTask', { id: task.id }, await md());
  assert.deepEqual(shown.value, task);

  const active = await client.call<{ active: boolean; task_id?: string; aud?: string[] }>(
    'Introspect',
    { token: issued.value!.secret },
    await md(),
  );
  assert.equal(active.value!.active, true);
  assert.equal(active.value!.task_id, task.id);
  assert.deepEqual(active.value!.aud, ['crm-api']);

  const completed = await client.call<TaskMsg>('CompleteTask', { id: task.id }, await md());
  assert.equal(completed.value!.status, 'completed');

  const inactive = await client.call<{ active?: boolean; task_id?: string }>(
    'Introspect',
    { token: issued.value!.secret },
    await md(),
  );
  assert.deepEqual({ ...inactive.value, active: inactive.value!.active ?? false }, { active: false });

  const again = await client.call(
    'IssueCredential',
    { task_id: task.id, provider: 'crm-api', scopes: ['crm:read'] },
    await md(),
  );
  assert.equal(again.code, 'BROKER_TASK_ALREADY_ENDED');
  return { task, credentialId: issued.value!.credential.id };
}

describe('taskpass.v1.Broker workload flow', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('runs start → issue → get → complete over the Unix socket with a bearer JWT-SVID', async () => {
    const client = h.unixClient();
    await workloadFlow(h, client, async () => bearer(await h.jwt(DEV_WORKLOAD)));
  });

  it('runs the same flow over TCP+mTLS, authenticated by the X509-SVID client certificate alone', async () => {
    const client = h.tlsClient(await h.x509(DEV_WORKLOAD));
    const { task } = await workloadFlow(h, client, async () => new Metadata());
    const events = await h.app.store.queryEvents({ taskId: task.id, types: ['task.started'] });
    assert.equal(events.items[0]?.workload?.toString(), DEV_WORKLOAD);
  });

  it('fails a task with a reason, and lists tasks for an operator, newest first', async () => {
    const client = h.unixClient();
    const md = bearer(await h.jwt(DEV_WORKLOAD));
    const started = await client.call<TaskMsg>('StartTask', START, md);
    const failed = await client.call<TaskMsg>(
      'FailTask',
      { id: started.value!.id, reason: 'tool crashed' },
      md,
    );
    assert.equal(failed.value!.status, 'failed');
    const list = await client.call<{ tasks: TaskMsg[]; next_cursor?: string }>(
      'ListTasks',
      { status: 'failed', limit: 1 },
      md,
    );
    assert.equal(list.status, undefined, list.details);
    assert.equal(list.value!.tasks[0]?.id, started.value!.id);
  });

  it('gives auditors the ledger events of the flow, with details, and a verified chain', async () => {
    const client = h.unixClient();
    const { task, credentialId } = await workloadFlow(h, client, async () =>
      bearer(await h.jwt(DEV_WORKLOAD)),
    );
    const md = bearer(await h.jwt(DEV_WORKLOAD));
    const res = await client.call<{ events: EventMsg[]; next_cursor?: string }>(
      'QueryAudit',
      { task_id: task.id },
      md,
    );
    assert.equal(res.status, undefined, res.details);
    const types = res.value!.events.map((e) => e.type);
    for (const t of [
      'task.started',
      'credential.issued',
      'task.completed',
      'credential.revoked',
      'credential.denied',
    ]) {
      assert.ok(types.includes(t), `missing ${t} in ${types.join(',')}`);
    }
    const seqs = res.value!.events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'oldest first',
    );
    const issued = res.value!.events.find((e) => e.type === 'credential.issued')!;
    assert.equal(issued.credential_id, credentialId);
    assert.equal(typeof fromStruct(issued.details), 'object');

    const filtered = await client.call<{ events: EventMsg[] }>(
      'QueryAudit',
      { task_id: task.id, types: ['credential.revoked'], limit: 10 },
      md,
    );
    assert.deepEqual(
      filtered.value!.events.map((e) => e.type),
      ['credential.revoked'],
    );

    await h.app.sealer.idle();
    const verified = await client.call<{ ok: boolean; events: number }>('VerifyAudit', {}, md);
    assert.equal(verified.status, undefined, verified.details);
    assert.equal(verified.value!.ok, true);
  });
});
