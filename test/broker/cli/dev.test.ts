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
import { runCliCaptured } from '../../support/run-cli.js';

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      return await access(path);
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`${path} did not appear`);
}

describe('taskpass dev', { timeout: 30_000 }, () => {
  it('serves the development identity on the Workload API socket until stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-dev-'));
    const socket = join(dir, 'w.sock');
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    const running = runCliCaptured(
      ['dev', '--json', '--data-dir', join(dir, 'data'), '--socket', socket, '--log-level', 'silent'],
      { stopSignal },
    );
    try {
      await waitFor(socket);
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
    const out = await running;
    assert.equal(out.code, 0, out.stderr);
    const printed = JSON.parse(out.stdout.split('\n')[0]!) as Record<string, unknown>;
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
