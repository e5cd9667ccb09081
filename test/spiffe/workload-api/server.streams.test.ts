import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { parseDerCertificates } from '../../../spiffe/pem.js';
import { createBundleFeed, type MutableBundleFeed } from '../../../spiffe/workload-api/bundle-feed.js';
import type {
  JwtBundlesResponseMessage,
  X509BundlesResponseMessage,
  X509SvidResponseMessage,
} from '../../../spiffe/workload-api/proto.js';
import { SpiffeError } from '../../../spiffe/errors.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakePeerCredentials } from '../../fakes/fake-peer-credentials.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import { codeOf, openStream, registrations, settle, startHarness, TD, type Harness } from './harness.js';

const SECOND = 1000;

function leafSerial(msg: X509SvidResponseMessage, index = 0): string {
  const chain = parseDerCertificates(msg.svids[index]?.x509_svid ?? Buffer.alloc(0));
  return chain[0]?.serialNumber ?? '';
}

describe('Workload API server: streams push updates', () => {
  let clock: FakeClock;
  let issuer: FakeSvidIssuer;
  let feed: MutableBundleFeed;
  let h: Harness;
  const peer = new FakePeerCredentials({ pid: 10, uid: 1000, gid: 1000 });

  beforeEach(async () => {
    clock = new FakeClock('2025-01-01T00:00:00Z');
    issuer = await FakeSvidIssuer.create(TD, clock.now());
    feed = createBundleFeed({ local: () => issuer.bundle() });
    h = await startHarness({
      issuer,
      clock,
      bundles: feed,
      peerCredentials: peer,
      x509SvidTtlSeconds: 3600,
      registrations: registrations([{ path: '/agent', uid: 1000 }]),
    });
  });
  afterEach(() => h.close());

  it('sends the current SVID at once and a rotated one at half its lifetime', async () => {
    const stream = openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID');
    const first = await stream.next();
    assert.equal(issuer.x509Mints, 1);

    clock.advance(1799 * SECOND);
    await settle();
    assert.equal(stream.buffered, 0, 'no push before the rotation time');
    assert.equal(issuer.x509Mints, 1);

    clock.advance(1 * SECOND);
    const second = await stream.next();
    assert.equal(issuer.x509Mints, 2);
    assert.notEqual(leafSerial(second), leafSerial(first));
    assert.deepEqual(issuer.x509MintTimes.at(-1), new Date('2025-01-01T00:30:00Z'));

    clock.advance(1800 * SECOND);
    const third = await stream.next();
    assert.notEqual(leafSerial(third), leafSerial(second));
    stream.cancel();
  });

  it('shares one SVID between streams of the same identity and rotates it once', async () => {
    const a = openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID');
    const b = openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID');
    assert.equal(leafSerial(await a.next()), leafSerial(await b.next()));
    clock.advance(1800 * SECOND);
    assert.equal(leafSerial(await a.next()), leafSerial(await b.next()));
    assert.equal(issuer.x509Mints, 2);
  });

  it('pushes X.509 SVIDs and bundles again when a federated bundle arrives', async () => {
    const svids = openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID');
    const bundles = openStream<X509BundlesResponseMessage>(h.client, 'FetchX509Bundles');
    assert.deepEqual(Object.keys((await svids.next()).federated_bundles), []);
    assert.deepEqual(Object.keys((await bundles.next()).bundles), [`spiffe://${TD}`]);

    const partner = await FakeSvidIssuer.create('partner.example', clock.now());
    feed.setFederated([partner.bundle()]);

    assert.deepEqual(Object.keys((await svids.next()).federated_bundles), ['spiffe://partner.example']);
    assert.deepEqual(Object.keys((await bundles.next()).bundles).sort(), [
      `spiffe://${TD}`,
      'spiffe://partner.example',
    ]);
  });

  it('pushes the JWT bundles again when the signing keys change, and not otherwise', async () => {
    const stream = openStream<JwtBundlesResponseMessage>(h.client, 'FetchJWTBundles');
    const first = JSON.parse((await stream.next()).bundles[`spiffe://${TD}`]?.toString() ?? '{}') as {
      keys: { kid: string; use: string }[];
    };
    assert.equal(first.keys.length, 1);
    assert.equal(first.keys[0]?.use, 'jwt-svid');

    feed.refresh();
    await settle();
    assert.equal(stream.buffered, 0, 'an unchanged bundle is not pushed again');

    issuer.rotateJwtKey();
    feed.refresh();
    const second = JSON.parse((await stream.next()).bundles[`spiffe://${TD}`]?.toString() ?? '{}') as {
      keys: unknown[];
    };
    assert.equal(second.keys.length, 2);
  });

  it('ends the stream with Unavailable when the CA cannot mint', async () => {
    issuer.failNextWith(new SpiffeError('SPIFFE_CA_KEY_STORE'));
    assert.equal(await codeOf(openStream(h.client, 'FetchX509SVID').next()), status.UNAVAILABLE);
    // The failure is not cached: the next caller gets an SVID.
    await openStream(h.client, 'FetchX509SVID').next();
  });

  it('stops the rotation timer of a cancelled stream', async () => {
    const stream = openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID');
    await stream.next();
    assert.equal(clock.pendingTimers, 1);
    stream.cancel();
    await settle(20);
    assert.equal(clock.pendingTimers, 0);
  });
});
