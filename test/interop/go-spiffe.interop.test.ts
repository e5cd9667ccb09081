// Interop the other way: go-spiffe v2 (test/interop/go-spiffe-client, built by scripts/install-peers.sh)
// fetches SVIDs and bundles from taskpass's Workload API server, validates them with go-spiffe's own
// verifiers, and calls a taskpass mTLS endpoint with them. A control run against a real SPIRE agent shows
// the Go program itself judges the way SPIRE expects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { BundleSet } from '../../spiffe/bundle-set.js';
import { createDevCa, type DevCa } from '../../spiffe/ca/dev-ca.js';
import { systemClock } from '../../spiffe/clock.js';
import { isSpiffeError } from '../../spiffe/errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { peerSvid, svidTlsOptions } from '../../spiffe/tls.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import { createWorkloadApiServer, type WorkloadApiServer } from '../../spiffe/workload-api/index.js';
import { peers, requirePeers } from './support/peers.js';
import { startSpire, type SpireDeployment } from './support/spire.js';

const TRUST_DOMAIN = 'taskpass.test';
const WORKLOAD_ID = `spiffe://${TRUST_DOMAIN}/go-spiffe-client`;
const SERVER_ID = `spiffe://${TRUST_DOMAIN}/mtls-server`;
const AUDIENCE = 'taskpass-interop';

/** What the go-spiffe client prints (see test/interop/go-spiffe-client/main.go). */
interface GoReport {
  ok: boolean;
  x509: {
    spiffe_id?: string;
    expires_at?: string;
    bundle_trust_domains?: string[];
    verified: boolean;
    verified_id?: string;
  };
  jwt: {
    spiffe_id?: string;
    audience?: string[];
    bundle_trust_domains?: string[];
    verified: boolean;
    verified_id?: string;
    validated_by_api: boolean;
  };
  mtls?: { status?: number; body?: string; error?: string };
  errors: string[];
}

/** Runs the go-spiffe client; resolves with its exit code and parsed report (it prints one even on failure). */
function runGoClient(args: string[]): Promise<{ exitCode: number; report: GoReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      peers().goSpiffeClient,
      [...args, '-timeout', '30s'],
      { timeout: 60_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const exitCode = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        try {
          resolve({ exitCode, report: JSON.parse(stdout) as GoReport, stderr });
        } catch {
          reject(
            new Error(`go-spiffe client printed no report (exit ${exitCode}): ${stdout}\n${stderr}`, {
              cause: err,
            }),
          );
        }
      },
    );
  });
}

/** `report` as a readable assertion message. */
const show = (report: GoReport): string => JSON.stringify(report, null, 2);

/**
 * A taskpass mTLS test endpoint: presents `svid`, requires a client X509-SVID that chains to `ca`'s
 * bundle (Node's TLS), re-verifies it as an X509-SVID after the handshake (`peerSvid`) and answers with
 * the client's SPIFFE ID.
 */
async function startMtlsEndpoint(ca: DevCa): Promise<{ server: Server; url: string }> {
  const svid = await ca.mintX509Svid({ id: SpiffeId.parse(SERVER_ID), now: new Date() });
  const bundles = new BundleSet([ca.bundle()]);
  const server = createServer({ ...svidTlsOptions(svid, ca.bundle()) }, (req, res) => {
    peerSvid(req.socket as TLSSocket, bundles, { now: new Date() }).then(
      (verified) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ spiffe_id: verified.id.toString() }));
      },
      (err: unknown) => {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: isSpiffeError(err) ? err.code : 'UNKNOWN' }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `https://127.0.0.1:${port}/whoami` };
}

const gate = requirePeers('go-spiffe', ['go-spiffe-client']);

describe('interop: go-spiffe v2 against taskpass', { skip: gate.skip, timeout: 120_000 }, () => {
  let dir: string;
  let ca: DevCa;
  let workloadApi: WorkloadApiServer;
  let endpoint: { server: Server; url: string };

  before(async () => {
    dir = await mkdtemp('/tmp/tp-gospiffe-');
    ca = await createDevCa({ trustDomain: TrustDomain.parse(TRUST_DOMAIN), clock: systemClock });
    workloadApi = createWorkloadApiServer({
      socketPath: `unix://${join(dir, 'workload.sock')}`,
      issuer: ca,
      // The Go client runs as this process's uid: attested by SO_PEERCRED as SPIRE's unix attestor does.
      registrations: {
        entries: [{ spiffeId: SpiffeId.parse(WORKLOAD_ID), selectors: { uid: process.getuid?.() ?? 0 } }],
      },
      clock: systemClock,
    });
    await workloadApi.start();
    endpoint = await startMtlsEndpoint(ca);
  });

  after(async () => {
    endpoint?.server.closeAllConnections();
    await new Promise<void>((resolve) => (endpoint ? endpoint.server.close(() => resolve()) : resolve()));
    await workloadApi?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fetches and verifies the X509-SVID, the JWT-SVID and both bundle kinds, then calls the mTLS endpoint', async () => {
    const { exitCode, report } = await runGoClient([
      '-socket',
      workloadApi.address,
      '-audience',
      AUDIENCE,
      '-mtls-url',
      endpoint.url,
      '-server-id',
      SERVER_ID,
    ]);
    assert.equal(exitCode, 0, show(report));
    assert.equal(report.ok, true, show(report));
    assert.deepEqual(report.errors, []);

    assert.equal(report.x509.spiffe_id, WORKLOAD_ID);
    assert.equal(report.x509.verified, true);
    assert.equal(report.x509.verified_id, WORKLOAD_ID);
    assert.deepEqual(report.x509.bundle_trust_domains, [TRUST_DOMAIN]);
    assert.ok(Date.parse(report.x509.expires_at ?? '') > Date.now());

    assert.equal(report.jwt.spiffe_id, WORKLOAD_ID);
    assert.deepEqual(report.jwt.audience, [AUDIENCE]);
    assert.deepEqual(report.jwt.bundle_trust_domains, [TRUST_DOMAIN]);
    assert.equal(report.jwt.verified, true);
    assert.equal(report.jwt.verified_id, WORKLOAD_ID);
    assert.equal(report.jwt.validated_by_api, true);

    assert.equal(report.mtls?.status, 200, show(report));
    assert.deepEqual(JSON.parse(report.mtls?.body ?? '{}'), { spiffe_id: WORKLOAD_ID });
  });

  it('has go-spiffe refuse the mTLS endpoint when it expects another server ID', async () => {
    const { exitCode, report } = await runGoClient([
      '-socket',
      workloadApi.address,
      '-mtls-url',
      endpoint.url,
      '-server-id',
      `spiffe://${TRUST_DOMAIN}/someone-else`,
    ]);
    assert.equal(exitCode, 1, show(report));
    assert.equal(report.ok, false);
    // The Workload API part still passed; only the authorization of the server failed.
    assert.equal(report.x509.verified, true);
    assert.equal(report.jwt.verified, true);
    assert.equal(report.mtls?.status, undefined);
    assert.ok(report.mtls?.error, show(report));
  });
});

const controlGate = requirePeers('go-spiffe control against SPIRE', ['go-spiffe-client', 'spire']);

describe(
  'interop control: the go-spiffe client against a real SPIRE agent',
  { skip: controlGate.skip, timeout: 180_000 },
  () => {
    let spire: SpireDeployment;

    before(async () => {
      spire = await startSpire(peers(), { trustDomain: 'control.test', timeoutMs: 90_000 });
    });

    after(async () => {
      await spire?.stop();
    });

    it('fetches and verifies SPIRE-issued SVIDs with go-spiffe', async () => {
      const { exitCode, report } = await runGoClient(['-socket', spire.agentAddress, '-audience', AUDIENCE]);
      assert.equal(exitCode, 0, show(report));
      assert.equal(report.x509.verified_id, spire.workloadId);
      assert.equal(report.jwt.verified_id, spire.workloadId);
      assert.equal(report.jwt.validated_by_api, true);
    });
  },
);
