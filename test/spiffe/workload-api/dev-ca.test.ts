import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDevCa, type DevCa } from '../../../spiffe/ca/index.js';
import { verifyJwtSvid } from '../../../spiffe/jwt-svid.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { verifyX509Svid } from '../../../spiffe/x509-svid.js';
import { createBundleFeed, type MutableBundleFeed } from '../../../spiffe/workload-api/bundle-feed.js';
import { createWorkloadApiClient, type WorkloadApiClient } from '../../../spiffe/workload-api/client.js';
import { rotationTime } from '../../../spiffe/workload-api/x509-svid-cache.js';
import { createWorkloadSource } from '../../../spiffe/workload-api/workload-source.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { id, myUid, registrations, startHarness, TD, type Harness } from './harness.js';

const onLinux = process.platform === 'linux';
const td = TrustDomain.parse(TD);

// End to end with the real development CA and, on Linux, real SO_PEERCRED attestation of this process.
describe('Workload API with the development CA', () => {
  let clock: FakeClock;
  let ca: DevCa;
  let feed: MutableBundleFeed;
  let h: Harness;
  let client: WorkloadApiClient;

  before(async () => {
    clock = new FakeClock('2025-06-01T00:00:00Z');
    ca = await createDevCa({ trustDomain: td, clock });
    feed = createBundleFeed({ local: () => ca.bundle() });
    h = await startHarness({
      issuer: ca,
      clock,
      bundles: feed,
      // Off Linux there is no SO_PEERCRED: the default identity stands in.
      registrations: registrations([{ path: '/broker', uid: myUid() }], onLinux ? undefined : '/broker'),
    });
    client = createWorkloadApiClient({ socketPath: h.server.address, clock, timers: clock });
  });
  after(async () => {
    client.close();
    await h.close();
  });

  it('serves an X509-SVID that verifies against the served bundle', async () => {
    const ctx = await client.fetchX509Context();
    const svid = ctx.svids[0];
    assert.ok(svid);
    const verified = await verifyX509Svid(svid.certificates, ctx.bundles, { now: clock.now() });
    assert.ok(verified.id.equals(id('/broker')));
  });

  it('serves a JWT-SVID that verifies locally against the JWT bundles and remotely via ValidateJWTSVID', async () => {
    const svid = await client.fetchJwtSvid({ audience: 'taskpass' });
    const bundles = await client.fetchJwtBundles();
    const local = await verifyJwtSvid(svid.token, bundles, { now: clock.now(), audience: 'taskpass' });
    assert.ok(local.id.equals(id('/broker')));
    const remote = await client.validateJwtSvid(svid.token, 'taskpass');
    assert.ok(remote.id.equals(id('/broker')));
  });

  it('keeps a source current across an SVID rotation and a JWT key rotation', async () => {
    const source = createWorkloadSource({ client, clock });
    try {
      await source.ready();
      const first = source.x509Svid();
      clock.advance(rotationTime(first).getTime() - clock.now().getTime());
      await waitFor(
        () => source.x509Svid().certificates[0]?.serialNumber !== first.certificates[0]?.serialNumber,
      );
      await verifyX509Svid(source.x509Svid().certificates, source, { now: clock.now() });

      await ca.rotateJwtKey();
      feed.refresh();
      await waitFor(() => source.getBundleForTrustDomain(td).jwtAuthorities.size === 2);
      const token = (await source.fetchJwtSvid({ audience: 'taskpass' })).token;
      await verifyJwtSvid(token, source, { now: clock.now(), audience: 'taskpass' });
    } finally {
      source.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
