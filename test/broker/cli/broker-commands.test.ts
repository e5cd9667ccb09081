// The CLI's broker commands against a real in-process broker (PGlite in a temp dir, the development
// CA and Workload API socket, examples/policy.yaml): a workload, an auditor and an operator at work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCliCaptured } from '../../support/run-cli.js';
import {
  AGENT,
  BROKER_ID,
  DEV_WORKLOAD,
  startTestBroker,
  type TestBroker,
} from '../../support/running-broker.js';

interface TaskJson {
  id: string;
  status: string;
  workload: string;
  manifest: unknown;
  created_at: string;
  deadline: string;
}

describe('taskpass task / credential / tasks / audit against a real broker', { timeout: 180_000 }, () => {
  let t: TestBroker;
  let as: string[];

  /** Runs the CLI and parses its `--json` stdout; fails with the output unless it exits 0. */
  async function json<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
    const out = await runCliCaptured([...args, '--json'], { env });
    assert.equal(out.code, 0, `${args.join(' ')}: ${out.stdout}${out.stderr}`);
    return JSON.parse(out.stdout) as T;
  }

  before(async () => {
    t = await startTestBroker();
    as = ['--broker', t.url, '--jwt-svid', await t.jwtFile(DEV_WORKLOAD)];
  });
  after(() => t.stop());

  it('runs a task as a workload with a JWT-SVID file: start, show, issue, complete, no more credentials', async () => {
    const task = await json<TaskJson>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--text',
      'summarise ticket 123',
      '--manifest',
      'crm-api:crm:read,crm:write',
      '--ttl',
      '10m',
      ...as,
    ]);
    assert.equal(task.status, 'active');
    assert.equal(task.workload, DEV_WORKLOAD);
    assert.deepEqual(task.manifest, [{ provider: 'crm-api', scopes: ['crm:read', 'crm:write'] }]);
    assert.equal(Date.parse(task.deadline) - Date.parse(task.created_at), 600_000, '--ttl 10m');
    assert.equal((await json<TaskJson>(['task', 'show', task.id, ...as])).status, 'active');

    const issued = await json<{ credential: { id: string; task_id: string }; secret: string }>([
      'credential',
      'issue',
      '--task',
      task.id,
      '--provider',
      'crm-api',
      '--scope',
      'crm:read',
      '--ttl',
      '2m',
      ...as,
    ]);
    assert.equal(issued.credential.task_id, task.id);
    assert.ok(issued.secret.length > 20);

    // For people: the secret alone on stdout (so $(…) captures it), the record on stderr.
    const human = await runCliCaptured([
      'credential',
      'issue',
      '--task',
      task.id,
      '--provider',
      'crm-api',
      ...as,
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    assert.match(human.stderr, /^id: /m);
    assert.ok(!human.stderr.includes(human.stdout.trim()), 'the secret is printed once, on stdout');

    assert.equal((await json<TaskJson>(['task', 'complete', task.id, ...as])).status, 'completed');
    const again = await runCliCaptured([
      'credential',
      'issue',
      '--task',
      task.id,
      '--provider',
      'crm-api',
      '--json',
      ...as,
    ]);
    assert.equal(again.code, 1);
    assert.equal(JSON.parse(again.stdout).error.code, 'BROKER_TASK_ALREADY_ENDED');
  });

  it('fails a task with a reason', async () => {
    const task = await json<TaskJson>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...as,
    ]);
    const failed = await json<TaskJson>(['task', 'fail', task.id, '--reason', 'the model gave up', ...as]);
    assert.equal(failed.status, 'failed');
    const events = await json<{ events: { reason: string | null }[] }>([
      'audit',
      'query',
      '--task',
      task.id,
      '--type',
      'task.failed',
      ...as,
    ]);
    assert.equal(events.events.length, 1);
  });

  it('takes its identity from the Workload API socket (--socket, or SPIFFE_ENDPOINT_SOCKET)', async () => {
    const broker = ['--broker', t.url];
    const viaEnv = await json<TaskJson>(
      ['task', 'start', '--intent', 'summarize-ticket', '--manifest', 'crm-api:crm:read', ...broker],
      { SPIFFE_ENDPOINT_SOCKET: t.socket },
    );
    assert.equal(viaEnv.workload, DEV_WORKLOAD);
    const path = t.socket.replace(/^unix:\/\//, '');
    const viaFlag = await json<TaskJson>(['task', 'show', viaEnv.id, '--socket', path, ...broker]);
    assert.equal(viaFlag.id, viaEnv.id);
    const issued = await json<{ secret: string }>(
      ['credential', 'issue', '--task', viaEnv.id, '--provider', 'crm-api', '--scope', 'crm:read', ...broker],
      { SPIFFE_ENDPOINT_SOCKET: t.socket, TASKPASS_AUDIENCE: 'taskpass-broker' },
    );
    assert.ok(issued.secret);
    assert.equal(
      (await json<TaskJson>(['task', 'complete', viaEnv.id, '--socket', path, ...broker])).status,
      'completed',
    );
  });

  it('finds the broker in TASKPASS_BROKER_URL', async () => {
    const out = await json<{ tasks: unknown[] }>(['tasks', 'ls', '--jwt-svid', await t.jwt(DEV_WORKLOAD)], {
      TASKPASS_BROKER_URL: t.url,
    });
    assert.ok(out.tasks.length > 0);
  });

  it('lists tasks as an operator: filters, pages, and a table for people', async () => {
    const page = await json<{ tasks: TaskJson[]; next_cursor: string | null }>([
      'tasks',
      'ls',
      '--workload',
      DEV_WORKLOAD,
      '--limit',
      '1',
      ...as,
    ]);
    assert.equal(page.tasks.length, 1);
    assert.ok(page.next_cursor);
    const next = await json<{ tasks: TaskJson[] }>([
      'tasks',
      'ls',
      '--limit',
      '1',
      '--cursor',
      page.next_cursor,
      ...as,
    ]);
    assert.notEqual(next.tasks[0]!.id, page.tasks[0]!.id);
    const completed = await json<{ tasks: TaskJson[] }>(['tasks', 'ls', '--status', 'completed', ...as]);
    assert.ok(completed.tasks.length > 0 && completed.tasks.every((x) => x.status === 'completed'));

    const table = await runCliCaptured(['tasks', 'ls', '--status', 'completed', ...as]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID +STATUS +WORKLOAD +INTENT +CREATED_AT +DEADLINE\n/);
    assert.ok(table.stdout.includes(completed.tasks[0]!.id));
  });

  it('queries the ledger as an auditor, as JSON and CSV, every page with --all, and verifies the chain', async () => {
    const task = await json<TaskJson>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...as,
    ]);
    await json([
      'credential',
      'issue',
      '--task',
      task.id,
      '--provider',
      'crm-api',
      '--scope',
      'crm:read',
      ...as,
    ]);
    await json(['task', 'complete', task.id, ...as]);
    const expected = [
      'task.started',
      'credential.issued',
      'task.completed',
      'credential.revoked',
      'credential.revocation_verified',
    ];

    const events = await json<{ events: { type: string }[]; next_cursor: string | null }>([
      'audit',
      'query',
      '--task',
      task.id,
      ...as,
    ]);
    assert.deepEqual(
      events.events.map((e) => e.type),
      expected,
    );
    const paged = await json<{ events: { type: string }[]; next_cursor: string | null }>([
      'audit',
      'query',
      '--task',
      task.id,
      '--limit',
      '1',
      '--all',
      ...as,
    ]);
    assert.deepEqual(
      paged.events.map((e) => e.type),
      expected,
    );
    assert.equal(paged.next_cursor, null);

    const csv = await runCliCaptured([
      'audit',
      'query',
      '--task',
      task.id,
      '--format',
      'csv',
      '--limit',
      '3',
      '--all',
      ...as,
    ]);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^seq,occurred_at,type,workload,task_id,/);
    assert.equal(lines.length, 1 + expected.length, 'one header row across pages');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[2]),
      expected,
    );

    const issuedOnly = await json<{ events: { type: string }[] }>([
      'audit',
      'query',
      '--task',
      task.id,
      '--type',
      'credential.issued',
      '--type',
      'task.completed',
      ...as,
    ]);
    assert.deepEqual(
      issuedOnly.events.map((e) => e.type),
      ['credential.issued', 'task.completed'],
    );

    const verified = await json<{ ok: boolean; events: number }>(['audit', 'verify', ...as]);
    assert.equal(verified.ok, true);
    assert.ok(verified.events >= expected.length);
  });

  it('speaks mTLS with an X509-SVID to an https broker it authenticates by SPIFFE ID', async () => {
    const url = await t.https();
    const files = await t.x509Files(AGENT, 'agent');
    const mtls = ['--broker', url, '--cert', files.cert, '--key', files.key, '--ca', t.bundlePem];
    const task = await json<TaskJson>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...mtls,
    ]);
    assert.equal(task.workload, AGENT);
    assert.equal(
      (await json<TaskJson>(['task', 'show', task.id, '--broker-id', BROKER_ID, ...mtls])).id,
      task.id,
    );
    const wrong = await runCliCaptured([
      'task',
      'show',
      task.id,
      '--json',
      '--broker-id',
      DEV_WORKLOAD,
      ...mtls,
    ]);
    assert.equal(wrong.code, 1);
    assert.equal(JSON.parse(wrong.stdout).error.code, 'SPIFFE_MATCH_UNEXPECTED_ID');
  });
});
