/**
 * The crash suite of ISSUE 4 ("Never lost"; DESIGN invariant 3) on the real PostgreSQL server
 * (`TASKPASS_TEST_DATABASE_URL`, one fresh schema): a broker in a child process ends tasks whose
 * backends hang (its worker holds those queue rows leased) or fail (those rows wait with a backoff),
 * and is killed with SIGKILL while they are queued. A new broker opened on the same database then
 * completes every revocation: each credential revoked once, with exactly one `credential.revoked`
 * event, and no queue row left open.
 *
 * Waits are bounded by counts of polls; nothing asserts a duration.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { App } from '../../broker/app.js';
import { createRecordingAdapter } from '../fakes/recording-adapter.js';
import { callerOf, openCrashBroker, OPERATOR, type CrashDb } from './support/revocation-crash-broker.js';

const URL_ = process.env['TASKPASS_TEST_DATABASE_URL'];
const skip = URL_ ? false : 'TASKPASS_TEST_DATABASE_URL is not set';
if (!URL_ && process.env['CI'] === 'true')
  throw new Error('the revocation crash suite must run under CI=true');
if (skip) console.log(`# skipping the revocation crash suite: ${skip}`);

const TASKS = 8;
const CREDENTIALS_PER_TASK = 3;
const POLLS = 600;

/** Starts the child broker and resolves with what it reported once its revocations are queued. */
function startChild(db: CrashDb): {
  child: ChildProcess;
  ready: Promise<{ tasks: string[]; credentials: string[] }>;
} {
  const script = new URL('./support/revocation-crash-child.js', import.meta.url);
  const child = spawn(process.execPath, [script.pathname], {
    env: {
      ...process.env,
      CRASH_DB_URL: db.url,
      CRASH_DB_SCHEMA: db.schema,
      CRASH_DIR: db.dir,
      CRASH_TASKS: String(TASKS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<{ tasks: string[]; credentials: string[] }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY '))
        resolve(JSON.parse(line.slice(6)) as { tasks: string[]; credentials: string[] });
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`child exited early (${code ?? signal}): ${stderr}`)),
    );
  });
  return { child, ready };
}

describe('revocation crash: kill -9 with revocations queued, restart, all complete', { skip }, () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: URL_, max: 1 });
  let dir = '';
  let child: ChildProcess | undefined;
  let app: App | undefined;

  before(async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
    dir = await mkdtemp(join(tmpdir(), 'taskpass-revocation-crash-'));
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await app?.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('completes every revocation the killed broker left queued', async (t) => {
    const db: CrashDb = { url: URL_ as string, schema, dir };
    const started = startChild(db);
    child = started.child;
    const { tasks, credentials } = await started.ready;
    assert.equal(tasks.length, TASKS);
    assert.equal(credentials.length, TASKS * CREDENTIALS_PER_TASK);

    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child!.once('exit', (_code, signal) => resolve(signal)),
    );
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const state = await admin.query<{ open: number; claimed: number; revoked: number }>(
      `SELECT count(*) FILTER (WHERE q.state <> 'done')::int AS open,
              count(*) FILTER (WHERE q.claim_id IS NOT NULL)::int AS claimed,
              (SELECT count(*)::int FROM ${schema}.credentials WHERE status = 'revoked') AS revoked
       FROM ${schema}.revocation_queue q`,
    );
    const before = state.rows[0]!;
    t.diagnostic(
      `after kill -9: open ${before.open}, leased by the dead worker ${before.claimed}, revoked ${before.revoked}`,
    );
    assert.equal(before.open, credentials.length, 'every revocation was queued and none could complete');
    assert.equal(before.revoked, 0);

    // Restart: same database, backends that now answer.
    const stuck = createRecordingAdapter('stuck');
    const down = createRecordingAdapter('down');
    app = await openCrashBroker(db, stuck, down);
    let stats = await app.revocation.store.queueStats();
    for (let i = 0; i < POLLS && stats.pending + stats.failed > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      stats = await app.revocation.store.queueStats();
    }
    assert.deepEqual(stats, { pending: 0, failed: 0, revokeFailedCredentials: 0 }, 'the queue drained');
    await app.revocation.worker.idle();

    const listed = [];
    for (const taskId of tasks) {
      listed.push(...(await app.revocations.credentials(callerOf(OPERATOR), { taskId })).items);
    }
    assert.equal(listed.length, credentials.length);
    for (const c of listed) {
      assert.equal(c.status, 'revoked', c.id);
      assert.equal(c.revocation?.state, 'done');
      assert.equal(c.revocation?.outcome, 'revoked');
    }
    const events = await app.store.queryEvents({ types: ['credential.revoked'], limit: 1000 });
    const revokedIds = events.items.map((e) => e.credentialId as string);
    assert.deepEqual([...revokedIds].sort(), [...credentials].sort(), 'exactly one credential.revoked each');
    // The new broker's backends were each asked once per credential.
    const calls = [...stuck.revokeCalls().values(), ...down.revokeCalls().values()];
    assert.equal(calls.length, credentials.length);
    assert.ok(calls.every((n) => n === 1));
  });
});
