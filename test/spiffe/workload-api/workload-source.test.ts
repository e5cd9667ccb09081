import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { isSpiffeError, type SpiffeError } from '../../../spiffe/errors.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { createBundleFeed } from '../../../spiffe/workload-api/bundle-feed.js';
import { createWorkloadApiClient, type WorkloadApiClient } from '../../../spiffe/workload-api/client.js';
import { createWorkloadApiServer, type WorkloadApiServer } from '../../../spiffe/workload-api/server.js';
import { createWorkloadSource, type WorkloadSource } from '../../../spiffe/workload-api/workload-source.js';
import { FakePeerCredentials } from '../../fakes/fake-peer-credentials.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import { id, registrations, startHarness, TD, type Harness } from './harness.js';

const td = TrustDomain.parse(TD);
const SECOND = 1000;

/** Resolves when `condition` holds, letting real I/O run between checks; `tick` may move fake time. */
async function eventually(
  condition: () => boolean,
  tick: () => void = () => undefined,
  timeoutMs = 8000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    tick();
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Workload source', () => {
  let h: Harness | undefined;
  let client: WorkloadApiClient | undefined;
  let source: WorkloadSource | undefined;
  let restarted: WorkloadApiServer | undefined;
  const peer = new FakePeerCredentials({ pid: 1, uid: 1000, gid: 1000 });
  afterEach(async () => {
    source?.close();
    client?.close();
    await restarted?.stop();
    await h?.close();
    [h, client, source, restarted] = [undefined, undefined, undefined, undefined];
  });

  async function setUp(): Promise<{
    h: Harness;
    issuer: FakeSvidIssuer;
    source: WorkloadSource;
    errors: SpiffeError[];
  }> {
    const issuer = await FakeSvidIssuer.create(TD);
    const feed = createBundleFeed({ local: () => issuer.bundle() });
    h = await startHarness({
      issuer,
      bundles: feed,
      peerCredentials: peer,
      registrations: registrations([{ path: '/broker', uid: 1000 }]),
    });
    client = createWorkloadApiClient({ socketPath: h.server.address, clock: h.clock, timers: h.clock });
    const errors: SpiffeError[] = [];
    source = createWorkloadSource({ client, clock: h.clock, onError: (e) => errors.push(e) });
    await source.ready();
    return { h, issuer, source, errors };
  }

  it('holds the SVID and a bundle with both X.509 and JWT authorities once ready', async () => {
    const { issuer, source } = await setUp();
    assert.ok(source.x509Svid().id.equals(id('/broker')));
    const bundle = source.getBundleForTrustDomain(td);
    assert.equal(bundle.x509Authorities.length, 1);
    assert.deepEqual([...bundle.jwtAuthorities.keys()], [...issuer.bundle().jwtAuthorities.keys()]);
    assert.throws(
      () => source.getBundleForTrustDomain(TrustDomain.parse('elsewhere.org')),
      (e) => isSpiffeError(e, 'SPIFFE_BUNDLE_NOT_FOUND'),
    );
  });

  it('stays current: follows SVID rotation and JWT key changes', async () => {
    const { h, issuer, source } = await setUp();
    const first = source.x509Svid().certificates[0]?.serialNumber;
    h.clock.advance(1800 * SECOND);
    await eventually(() => source.x509Svid().certificates[0]?.serialNumber !== first);
    assert.equal(issuer.x509Mints, 2);

    issuer.rotateJwtKey();
    (h.server.bundles as ReturnType<typeof createBundleFeed>).refresh();
    await eventually(() => source.getBundleForTrustDomain(td).jwtAuthorities.size === 2);
  });

  it('refuses to hand out an SVID that expired while no update arrived', async () => {
    const { h, source } = await setUp();
    await h.server.stop();
    h.clock.set(new Date(h.clock.now().getTime() + 2 * 3600 * SECOND));
    assert.throws(
      () => source.x509Svid(),
      (e) => isSpiffeError(e, 'SPIFFE_WORKLOAD_UNAVAILABLE'),
    );
  });

  it('reconnects with backoff after the endpoint restarts and picks up the new identity', async () => {
    const { h, source, errors } = await setUp();
    await h.server.stop();
    await eventually(() => errors.length > 0);
    assert.ok(errors.every((e) => e.code === 'SPIFFE_WORKLOAD_UNAVAILABLE'));

    const issuer2 = await FakeSvidIssuer.create(TD);
    restarted = createWorkloadApiServer({
      socketPath: h.server.socketPath,
      issuer: issuer2,
      clock: h.clock,
      timers: h.clock,
      peerCredentials: peer,
      registrations: registrations([{ path: '/broker-2', uid: 1000 }]),
    });
    await restarted.start();
    // Each fake-time step lets the watch's backoff timer fire; gRPC's own channel backoff is real time.
    await eventually(
      () => source.x509Svid().id.equals(id('/broker-2')),
      () => h.clock.advance(30 * SECOND),
    );
    assert.equal(source.x509Svids().length, 1);
  });

  it('rejects a pending ready() when closed', async () => {
    const issuer = await FakeSvidIssuer.create(TD);
    h = await startHarness({
      issuer,
      peerCredentials: new FakePeerCredentials({ pid: 1, uid: 9, gid: 9 }),
      registrations: registrations([{ path: '/x', uid: 1 }]),
    });
    client = createWorkloadApiClient({ socketPath: h.server.address, clock: h.clock, timers: h.clock });
    const errors: SpiffeError[] = [];
    const s = createWorkloadSource({ client, clock: h.clock, onError: (e) => errors.push(e) });
    await eventually(() => errors.length > 0);
    assert.ok(errors.some((e) => e.code === 'SPIFFE_WORKLOAD_NO_IDENTITY'));
    s.close();
    await assert.rejects(s.ready(), (e) => isSpiffeError(e, 'SPIFFE_WORKLOAD_UNAVAILABLE'));
  });
});
