// The refresher driving real endpoints: a federated trust domain rotates its root, and the relying
// party follows through its https_spiffe endpoint, authenticated each time by the bundle it last got.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BundleRefresher } from '../../../spiffe/federation/bundle-refresher.js';
import { HttpsSpiffeEndpoint } from '../../../spiffe/federation/https-spiffe-endpoint.js';
import { HttpsWebEndpoint } from '../../../spiffe/federation/https-web-endpoint.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { marshalBundle } from '../../../spiffe/bundle-json.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { createTestLeaf, createTestRoot, type TestCert } from '../bundle-fixtures.js';
import { startBundleServer, type TestBundleServer } from './bundle-server.js';

const bob = TrustDomain.parse('bob.example');
const carol = TrustDomain.parse('carol.example');
const endpointId = SpiffeId.parse('spiffe://bob.example/bundle-endpoint');

let root1: TestCert;
let root2: TestCert;
let webCa: TestCert;
let bobServer: TestBundleServer;
let carolServer: TestBundleServer;

const served = (td: TrustDomain, roots: TestCert[], sequenceNumber: number): string =>
  marshalBundle(
    new SpiffeBundle({
      trustDomain: td,
      x509Authorities: roots.map((r) => r.cert),
      sequenceNumber,
      refreshHintSeconds: 60,
    }),
  );

before(async () => {
  root1 = await createTestRoot('bob.example');
  root2 = await createTestRoot('bob.example');
  webCa = await createTestRoot('web-ca.test');
  bobServer = await startBundleServer(await createTestLeaf(root1, { uris: [endpointId.toString()] }));
  carolServer = await startBundleServer(await createTestLeaf(webCa, { ips: ['127.0.0.1'] }));
});

after(async () => {
  await bobServer.close();
  await carolServer.close();
});

describe('BundleRefresher over real bundle endpoints', () => {
  it('follows a root rotation per the refresh hint and rejects a rollback', async () => {
    const clock = new FakeClock();
    const set = new BundleSet([new SpiffeBundle({ trustDomain: bob, x509Authorities: [root1.cert] })]);
    const refresher = new BundleRefresher({
      bundles: set,
      fetchers: [
        new HttpsSpiffeEndpoint({ url: bobServer.url, endpointId, bundleSource: set, timeoutMs: 2_000 }),
        new HttpsWebEndpoint({
          trustDomain: carol,
          url: carolServer.url,
          ca: webCa.certPem,
          timeoutMs: 2_000,
        }),
      ],
      clock,
      timer: clock,
    });
    bobServer.respondWith({ body: served(bob, [root1, root2], 2) });
    carolServer.respondWith({ body: served(carol, [webCa], 1) });
    refresher.start();
    await refresher.whenIdle();
    assert.equal(set.get(bob)?.x509Authorities.length, 2);
    assert.equal(set.get(carol)?.sequenceNumber, 1);

    bobServer.respondWith({ body: served(bob, [root2], 3) });
    clock.advance(60_000);
    await refresher.whenIdle();
    assert.equal(set.get(bob)?.sequenceNumber, 3);
    assert.equal(set.get(bob)?.x509Authorities[0]?.equal(root2.cert), true);

    // root1, which signs the endpoint's certificate, is gone from the bundle: the endpoint can no longer
    // authenticate, and the rotated bundle stays.
    clock.advance(60_000);
    await refresher.whenIdle();
    assert.equal(refresher.status(bob)?.lastError?.code, 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED');
    assert.equal(set.get(bob)?.sequenceNumber, 3);

    carolServer.respondWith({ body: served(carol, [webCa], 0) });
    await refresher.refreshNow(carol);
    assert.equal(refresher.status(carol)?.lastError?.code, 'SPIFFE_BUNDLE_STALE_SEQUENCE');
    assert.equal(set.get(carol)?.sequenceNumber, 1);
    refresher.stop();
  });
});
