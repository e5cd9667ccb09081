// The TS client against a real broker (startBroker: PGlite in a temp dir, the development CA and
// Workload API socket, examples/policy.yaml), over plain HTTP and over HTTPS with mTLS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BrokerApiError } from '../../client/api-error.js';
import { createTaskpassClient, type TaskpassClient } from '../../client/client.js';
import { createWorkloadApiJwtSource } from '../../client/workload-api-jwt-source.js';
import { systemClock } from '../../spiffe/clock.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import {
  AGENT,
  BROKER_ID,
  DEV_WORKLOAD,
  startTestBroker,
  type TestBroker,
} from '../support/running-broker.js';

const MANIFEST = [{ provider: 'crm-api', scopes: ['crm:read'] }];

/** The code a rejected promise carries. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('createTaskpassClient against a real broker', { timeout: 120_000 }, () => {
  let t: TestBroker;
  let workload: TaskpassClient;

  before(async () => {
    t = await startTestBroker();
    workload = createTaskpassClient({ baseUrl: t.url, credentials: { jwtSvid: await t.jwt(DEV_WORKLOAD) } });
  });
  after(() => t.stop());

  it('runs a task with a fixed JWT-SVID: start, show, issue, introspect, complete, inactive', async () => {
    const task = await workload.startTask({
      intent: { name: 'summarize-ticket', text: 'summarise ticket 123' },
      manifest: MANIFEST,
      ttl_seconds: 600,
    });
    assert.equal(task.status, 'active');
    assert.equal(task.workload, DEV_WORKLOAD);
    assert.deepEqual(task.manifest, MANIFEST);
    assert.equal((await workload.getTask(task.id)).id, task.id);
    const issued = await workload.issueCredential(task.id, { provider: 'crm-api', scopes: ['crm:read'] });
    assert.equal(issued.credential.task_id, task.id);
    assert.equal(issued.credential.status, 'active');
    const active = await workload.introspect(issued.secret);
    assert.equal(active.active, true);
    assert.equal(active.task_id, task.id);
    assert.equal((await workload.completeTask(task.id)).status, 'completed');
    assert.deepEqual(await workload.introspect(issued.secret), { active: false });
    assert.equal(
      await codeOf(workload.issueCredential(task.id, { provider: 'crm-api', scopes: ['crm:read'] })),
      'BROKER_TASK_ALREADY_ENDED',
    );
  });

  it('fails a task with a reason', async () => {
    const task = await workload.startTask({ intent: { name: 'summarize-ticket' }, manifest: MANIFEST });
    assert.equal((await workload.failTask(task.id, 'model refused')).status, 'failed');
    const events = await workload.auditQuery({ task_id: task.id, type: ['task.failed'] });
    assert.equal(events.events.length, 1);
  });

  it('takes fresh JWT-SVIDs for the broker audience from the Workload API socket', async () => {
    const svids = createWorkloadApiJwtSource({
      socketPath: t.socket,
      audience: t.broker.app.config.audience,
      clock: systemClock,
    });
    try {
      const client = createTaskpassClient({ baseUrl: t.url, credentials: { jwtSvid: () => svids.token() } });
      const task = await client.startTask({ intent: { name: 'summarize-ticket' }, manifest: MANIFEST });
      assert.equal(task.workload, DEV_WORKLOAD);
      assert.equal((await client.getTask(task.id)).status, 'active');
      assert.equal(await svids.token(), await svids.token(), 'a fresh token is reused');
    } finally {
      svids.close();
    }
  });

  it('lists tasks for an operator, paged by cursor', async () => {
    const first = await workload.listTasks({ limit: 1 });
    assert.equal(first.tasks.length, 1);
    assert.ok(first.next_cursor);
    const second = await workload.listTasks({ limit: 1, cursor: first.next_cursor });
    assert.notEqual(second.tasks[0]!.id, first.tasks[0]!.id);
    const active = await workload.listTasks({ status: 'active', workload: DEV_WORKLOAD });
    assert.ok(active.tasks.every((task) => task.status === 'active'));
  });

  it('queries the ledger as JSON and CSV, following the cursor, and verifies the chain', async () => {
    const task = await workload.startTask({ intent: { name: 'summarize-ticket' }, manifest: MANIFEST });
    await workload.issueCredential(task.id, { provider: 'crm-api', scopes: ['crm:read'] });
    await workload.completeTask(task.id);
    const json = await workload.auditQuery({ task_id: task.id });
    assert.deepEqual(
      json.events.map((e) => e.type),
      [
        'task.started',
        'credential.issued',
        'task.completed',
        'credential.revoked',
        'credential.revocation_verified',
      ],
    );
    const page = await workload.auditQueryCsv({ task_id: task.id, limit: 2 });
    const lines = page.csv.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^seq,occurred_at,type,/);
    assert.equal(lines.length, 3);
    assert.ok(page.next_cursor, 'the Link header names the next page');
    const rest = await workload.auditQueryCsv({ task_id: task.id, limit: 2, cursor: page.next_cursor });
    assert.equal(rest.csv.trimEnd().split('\r\n').length, 3);
    const verified = await workload.auditVerify();
    assert.equal(verified.ok, true);
  });

  it("carries the broker's refusal code unchanged, with its HTTP status", async () => {
    const agent = createTaskpassClient({ baseUrl: t.url, credentials: { jwtSvid: await t.jwt(AGENT) } });
    const wrongAudience = createTaskpassClient({
      baseUrl: t.url,
      credentials: { jwtSvid: await t.jwt(DEV_WORKLOAD, { audience: 'someone-else' }) },
    });
    const cases: [string, () => Promise<unknown>, string, number][] = [
      ['unknown task', () => workload.getTask('no-such-task'), 'BROKER_TASK_NOT_FOUND', 404],
      [
        "another workload's task",
        async () => agent.getTask((await workload.listTasks()).tasks[0]!.id),
        'BROKER_TASK_NOT_FOUND',
        404,
      ],
      ['non-operator lists tasks', () => agent.listTasks(), 'BROKER_POLICY_DENIED', 403],
      ['non-auditor queries the ledger', () => agent.auditQuery(), 'BROKER_POLICY_DENIED', 403],
      [
        'intent the policy does not know',
        () => workload.startTask({ intent: { name: 'nope' }, manifest: MANIFEST }),
        'BROKER_POLICY_DENIED',
        403,
      ],
      ['svid for another audience', () => wrongAudience.listTasks(), 'BROKER_AUTH_INVALID', 401],
      ['bad filter', () => workload.auditQuery({ type: ['no.such.type'] }), 'BROKER_INPUT_INVALID', 400],
      // RFC 6749 §5.2 answer of the OAuth endpoint: the code travels in error_code.
      ['bad svid at the OAuth endpoint', () => wrongAudience.introspect('x.y.z'), 'BROKER_AUTH_INVALID', 401],
    ];
    for (const [name, run, code, status] of cases) {
      const err = await run().then(
        () => assert.fail(`${name}: expected a refusal`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BrokerApiError, `${name}: ${String(err)}`);
      assert.equal(err.code, code, name);
      assert.equal(err.status, status, name);
    }
  });
});

describe('createTaskpassClient over HTTPS to a broker with an X509-SVID', { timeout: 120_000 }, () => {
  let t: TestBroker;
  let url: string;
  let ca: Buffer;

  before(async () => {
    t = await startTestBroker();
    url = await t.https();
    ca = await readFile(t.bundlePem);
  });
  after(() => t.stop());

  it('authenticates the caller by its X509-SVID over mTLS, and the broker by its SPIFFE ID', async () => {
    const files = await t.x509Files(DEV_WORKLOAD, 'dev');
    const x509 = { cert: await readFile(files.cert), key: await readFile(files.key) };
    const client = createTaskpassClient({ baseUrl: url, credentials: { x509 }, tls: { ca } });
    const task = await client.startTask({ intent: { name: 'summarize-ticket' }, manifest: MANIFEST });
    assert.equal(task.workload, DEV_WORKLOAD);
    const exact = createTaskpassClient({
      baseUrl: url,
      credentials: { x509 },
      tls: { ca, serverId: SpiffeId.parse(BROKER_ID) },
    });
    assert.equal((await exact.getTask(task.id)).id, task.id);
  });

  it('sends a bearer JWT-SVID over the same TLS listener', async () => {
    const client = createTaskpassClient({
      baseUrl: url,
      credentials: { jwtSvid: await t.jwt(AGENT) },
      tls: { ca, serverId: SpiffeId.parse(BROKER_ID) },
    });
    const task = await client.startTask({ intent: { name: 'summarize-ticket' }, manifest: MANIFEST });
    assert.equal(task.workload, AGENT);
  });

  it('refuses a broker that is not the expected SPIFFE ID, or that the roots do not vouch for', async () => {
    const files = await t.x509Files(DEV_WORKLOAD, 'dev2');
    const x509 = { cert: await readFile(files.cert), key: await readFile(files.key) };
    const other = createTaskpassClient({
      baseUrl: url,
      credentials: { x509 },
      tls: { ca, serverId: SpiffeId.parse('spiffe://taskpass.local/not-the-broker') },
    });
    assert.equal(await codeOf(other.listTasks()), 'SPIFFE_MATCH_UNEXPECTED_ID');
    // Without --ca the broker is checked against the system roots, which do not know the dev CA.
    const webPki = createTaskpassClient({ baseUrl: url, credentials: { x509 } });
    assert.equal(await codeOf(webPki.listTasks()), 'BROKER_CLIENT_UNREACHABLE');
  });

  it('refuses a client certificate that is not an X509-SVID at creation', async () => {
    assert.throws(
      () =>
        createTaskpassClient({
          baseUrl: url,
          credentials: { x509: { cert: 'nothing', key: 'x' } },
          tls: { ca },
        }),
      (err: { code?: string }) => typeof err.code === 'string' && err.code.startsWith('SPIFFE_'),
    );
  });
});
