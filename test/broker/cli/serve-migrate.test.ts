import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../../../broker/cli/program.js';
import { runCliCaptured } from '../../support/run-cli.js';
import { repositoryRoot } from '../../support/repo-root.js';

describe('taskpass migrate', { timeout: 60_000 }, () => {
  it('applies pending migrations once, and rolls them back with --down-all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-migrate-'));
    const env = { TASKPASS_DATA_DIR: join(dir, 'data') };
    try {
      const first = await runCliCaptured(['migrate', '--json'], { env });
      assert.equal(first.code, 0, first.stderr);
      const applied = JSON.parse(first.stdout) as { applied: string[]; pending: string[]; current: string };
      assert.ok(applied.applied.length > 0);
      assert.deepEqual(applied.pending, []);
      assert.equal(applied.current, applied.applied.at(-1));

      const again = JSON.parse((await runCliCaptured(['migrate', '--json'], { env })).stdout) as {
        applied: string[];
      };
      assert.deepEqual(again.applied, []);

      const down = await runCliCaptured(['migrate', '--json', '--down-all'], { env });
      assert.equal(down.code, 0, down.stderr);
      const rolled = JSON.parse(down.stdout) as { rolled_back: string[]; current: null };
      assert.deepEqual(rolled.rolled_back, [...applied.applied].reverse());
      assert.equal(rolled.current, null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses --down with --down-all, and a --down that is not a positive integer', async () => {
    for (const args of [
      ['--down', '1', '--down-all'],
      ['--down', 'x'],
    ]) {
      const out = await runCliCaptured(['migrate', '--json', ...args]);
      assert.equal(out.code, 2);
      assert.equal((JSON.parse(out.stdout) as { error: { code: string } }).error.code, 'BROKER_CLI_USAGE');
    }
  });
});

describe('taskpass serve', { timeout: 60_000 }, () => {
  it('runs the broker from the environment until stopped, and reloads the policy on the reload signal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-serve-'));
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    let reload: (() => void) | undefined;
    let stdout = '';
    let stderr = '';
    const running = runCli(['serve', '--json', '--log-level', 'silent'], {
      clock: { now: () => new Date() },
      env: {
        TASKPASS_DATA_DIR: join(dir, 'data'),
        TASKPASS_HTTP_PORT: '0',
        TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
      },
      io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
      stopSignal,
      reloadSignal: (listener) => {
        reload = listener;
        return () => (reload = undefined);
      },
    });
    try {
      for (let i = 0; i < 800 && !stdout.includes('\n') && stderr === ''; i++) await sleep(25);
      const printed = JSON.parse(stdout.split('\n')[0]!) as { http: string; tls: boolean; identity: string };
      assert.equal(printed.tls, false);
      assert.equal(printed.identity, 'dev-ca');
      const ready = await fetch(`${printed.http}/readyz`);
      assert.equal(ready.status, 200);
      assert.ok(reload, 'subscribed to the reload signal');
      reload();
    } finally {
      stop();
    }
    assert.equal(await running, 0, stderr);
    assert.equal(reload, undefined, 'unsubscribed on stop');
    await rm(dir, { recursive: true, force: true });
  });
});
