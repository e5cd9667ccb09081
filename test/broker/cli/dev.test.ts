import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBundle } from '../../../spiffe/bundle-json.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { createWorkloadApiClient } from '../../../spiffe/workload-api/index.js';
import { verifyX509Svid } from '../../../spiffe/x509-svid.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { runCli } from '../../../broker/cli/program.js';
import { runCliCaptured } from '../../support/run-cli.js';

async function waitFor(path: string): Promise<void> {
  // The broker opens its embedded database and applies migrations before the socket appears.
  for (let i = 0; i < 1200; i++) {
    try {
      return await access(path);
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`${path} did not appear`);
}

async function firstLine(read: () => string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const text = read();
    if (text.includes('\n')) return text.split('\n')[0]!;
    await sleep(25);
  }
  throw new Error('nothing printed');
}

describe('taskpass dev', { timeout: 60_000 }, () => {
  it('serves the broker over HTTP and the development identity on the Workload API socket until stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-dev-'));
    const socket = join(dir, 'w.sock');
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    let stdout = '';
    let stderr = '';
    // runCli itself (not runCliCaptured): the printed address is read while the command runs.
    const running = runCli(
      [
        'dev',
        '--json',
        '--data-dir',
        join(dir, 'data'),
        '--socket',
        socket,
        '--port',
        '0',
        '--log-level',
        'silent',
      ],
      {
        clock: { now: () => new Date() },
        env: {},
        io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
        stopSignal,
      },
    );
    try {
      await waitFor(socket);
      const printed = JSON.parse(await firstLine(() => stdout)) as { http: string };
      assert.match(printed.http, /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${printed.http}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const jwks = (await (await fetch(`${printed.http}/.well-known/jwks.json`)).json()) as {
        keys: unknown[];
      };
      assert.equal(jwks.keys.length, 1);
      const client = createWorkloadApiClient({
        socketPath: `unix://${socket}`,
        clock: { now: () => new Date() },
      });
      try {
        const context = await client.fetchX509Context();
        const svid = context.svids[0]!;
        assert.equal(svid.id.toString(), 'spiffe://taskpass.local/dev/workload');
        // The bundle file written for relying parties verifies what the socket serves.
        const td = TrustDomain.parse('taskpass.local');
        const bundle = parseBundle(td, await readFile(join(dir, 'data', 'bundle.json')));
        const verified = await verifyX509Svid(svid.certificates, new BundleSet([bundle]), {
          now: new Date(),
        });
        assert.equal(verified.id.toString(), 'spiffe://taskpass.local/dev/workload');
      } finally {
        client.close();
      }
    } finally {
      stop();
    }
    assert.equal(await running, 0, stderr);
    const printed = JSON.parse(stdout.split('\n')[0]!) as Record<string, unknown>;
    assert.equal(printed.workload_api, `unix://${socket}`);
    await assert.rejects(access(socket), 'the socket is removed on stop');
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a socket path too long for a Unix socket with BROKER_CLI_USAGE', async () => {
    const out = await runCliCaptured(['dev', '--json', '--socket', `/tmp/${'x'.repeat(120)}.sock`]);
    assert.equal(out.code, 2);
    assert.equal(JSON.parse(out.stdout).error.code, 'BROKER_CLI_USAGE');
  });
});
