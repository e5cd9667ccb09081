import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpsSpiffeEndpoint } from '../../../spiffe/federation/https-spiffe-endpoint.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { marshalBundle } from '../../../spiffe/bundle-json.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../../spiffe/errors.js';
import { createJwtKeyPair, createTestLeaf, createTestRoot, type TestCert } from '../bundle-fixtures.js';
import { startBundleServer, unusedUrl, type TestBundleServer } from './bundle-server.js';

const bob = TrustDomain.parse('bob.example');
const endpointId = SpiffeId.parse('spiffe://bob.example/control-plane/bundle-endpoint');

let bobRoot: TestCert;
let bobNextRoot: TestCert;
let strangerRoot: TestCert;
let svidServer: TestBundleServer;
let wrongIdServer: TestBundleServer;
let notSvidServer: TestBundleServer;
let strangerServer: TestBundleServer;
let rotatedServer: TestBundleServer;
let servedJson: string;

/** The out-of-band bundle of bob.example (Appendix B.2 step 1). */
const initialSet = (...roots: TestCert[]): BundleSet =>
  new BundleSet([new SpiffeBundle({ trustDomain: bob, x509Authorities: roots.map((r) => r.cert) })]);

const endpoint = (
  server: TestBundleServer,
  set: BundleSet,
  extra: { timeoutMs?: number } = {},
): HttpsSpiffeEndpoint =>
  new HttpsSpiffeEndpoint({ url: server.url, endpointId, bundleSource: set, timeoutMs: 2_000, ...extra });

before(async () => {
  bobRoot = await createTestRoot('bob.example');
  bobNextRoot = await createTestRoot('bob.example');
  strangerRoot = await createTestRoot('bob.example');
  servedJson = marshalBundle(
    new SpiffeBundle({
      trustDomain: bob,
      x509Authorities: [bobRoot.cert, bobNextRoot.cert],
      sequenceNumber: 9,
    }),
  );
  // SVID-shaped server leaves carry no DNS or IP SAN: the endpoint is authenticated by SPIFFE ID only.
  svidServer = await startBundleServer(await createTestLeaf(bobRoot, { uris: [endpointId.toString()] }), {
    body: servedJson,
  });
  wrongIdServer = await startBundleServer(
    await createTestLeaf(bobRoot, { uris: ['spiffe://bob.example/impostor'] }),
    {
      body: servedJson,
    },
  );
  notSvidServer = await startBundleServer(await createTestLeaf(bobRoot, { ips: ['127.0.0.1'] }), {
    body: servedJson,
  });
  strangerServer = await startBundleServer(
    await createTestLeaf(strangerRoot, { uris: [endpointId.toString()] }),
    {
      body: servedJson,
    },
  );
  rotatedServer = await startBundleServer(
    await createTestLeaf(bobNextRoot, { uris: [endpointId.toString()] }),
    {
      body: servedJson,
    },
  );
});

after(async () => {
  for (const s of [svidServer, wrongIdServer, notSvidServer, strangerServer, rotatedServer]) await s.close();
});

describe('HttpsSpiffeEndpoint (Trust Domain and Bundle §5.2.2)', () => {
  it('fetches the bundle from a server presenting the configured SPIFFE ID', async () => {
    const bundle = await endpoint(svidServer, initialSet(bobRoot)).fetchBundle();
    assert.equal(bundle.trustDomain.equals(bob), true);
    assert.equal(bundle.sequenceNumber, 9);
    assert.equal(bundle.x509Authorities.length, 2);
  });

  it('reads the trust domain roots at each fetch, so a rotated root authenticates once the set has it', async () => {
    const set = initialSet(bobRoot);
    await assert.rejects(endpoint(rotatedServer, set).fetchBundle(), {
      code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
    });
    set.add(await endpoint(svidServer, set).fetchBundle());
    assert.equal((await endpoint(rotatedServer, set).fetchBundle()).sequenceNumber, 9);
  });

  it('files the bundle under an explicitly configured trust domain', async () => {
    const alice = TrustDomain.parse('alice.example');
    const ep = new HttpsSpiffeEndpoint({
      url: svidServer.url,
      endpointId,
      bundleSource: initialSet(bobRoot),
      trustDomain: alice,
    });
    assert.equal(ep.trustDomain.equals(alice), true);
    assert.equal((await ep.fetchBundle()).trustDomain.equals(alice), true);
  });

  it('rejects a server presenting another SPIFFE ID of the trust domain', async () => {
    await assert.rejects(endpoint(wrongIdServer, initialSet(bobRoot)).fetchBundle(), {
      code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
    });
  });

  it('rejects a server whose certificate chains to a root outside the bundle', async () => {
    await assert.rejects(endpoint(strangerServer, initialSet(bobRoot)).fetchBundle(), {
      code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
    });
  });

  it('rejects a trusted server certificate that is not an X509-SVID, keeping the leaf rule as cause', async () => {
    await assert.rejects(endpoint(notSvidServer, initialSet(bobRoot)).fetchBundle(), (err: unknown) => {
      const e = err as { code?: string; cause?: { code?: string } };
      assert.equal(e.code, 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED');
      assert.equal(e.cause?.code, 'SPIFFE_X509_NO_URI_SAN');
      return true;
    });
  });

  it('cannot authenticate without a bundle of the endpoint trust domain', async () => {
    await assert.rejects(endpoint(svidServer, new BundleSet()).fetchBundle(), {
      code: 'SPIFFE_BUNDLE_NOT_FOUND',
    });
  });

  it('cannot authenticate with a bundle that has no X.509 authority', async () => {
    const jwtOnly = new BundleSet([
      new SpiffeBundle({ trustDomain: bob, jwtAuthorities: new Map([['k', createJwtKeyPair().publicJwk]]) }),
    ]);
    await assert.rejects(endpoint(svidServer, jwtOnly).fetchBundle(), {
      code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
    });
  });

  const bodies: Array<{ name: string; body: string; code: SpiffeErrorCode }> = [
    { name: 'a body that is not JSON', body: 'garbage', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'a JSON body that is not a key set', body: '[1,2]', code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'a key set with two certificates in one entry',
      body: '{"keys":[{"kty":"EC","use":"x509-svid","x5c":["AA","AA"]}]}',
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
  ];
  for (const c of bodies) {
    it(`rejects ${c.name} from an authenticated server with ${c.code}`, async () => {
      const set = initialSet(bobRoot);
      svidServer.respondWith({ body: c.body });
      try {
        await assert.rejects(endpoint(svidServer, set).fetchBundle(), { code: c.code });
      } finally {
        svidServer.respondWith({ body: servedJson });
      }
    });
  }

  it('reports a server that is down with SPIFFE_BUNDLE_FETCH_FAILED', async () => {
    const ep = new HttpsSpiffeEndpoint({
      url: await unusedUrl(),
      endpointId,
      bundleSource: initialSet(bobRoot),
      timeoutMs: 2_000,
    });
    await assert.rejects(ep.fetchBundle(), { code: 'SPIFFE_BUNDLE_FETCH_FAILED' });
  });

  it('reports an authenticated server that does not answer in time with SPIFFE_BUNDLE_FETCH_FAILED', async () => {
    svidServer.respondWith({ hang: true });
    try {
      await assert.rejects(endpoint(svidServer, initialSet(bobRoot), { timeoutMs: 300 }).fetchBundle(), {
        code: 'SPIFFE_BUNDLE_FETCH_FAILED',
      });
    } finally {
      svidServer.respondWith({ body: servedJson });
    }
  });

  it('refuses a URL that is not https with SPIFFE_BUNDLE_BAD_ENDPOINT', () => {
    assert.throws(
      () => new HttpsSpiffeEndpoint({ url: 'http://127.0.0.1/b', endpointId, bundleSource: new BundleSet() }),
      { code: 'SPIFFE_BUNDLE_BAD_ENDPOINT' },
    );
  });

  it('takes its trust domain from the endpoint ID and describes itself', () => {
    const ep = new HttpsSpiffeEndpoint({
      url: 'https://bob.example.org/spiffe-bundle',
      endpointId,
      bundleSource: new BundleSet(),
    });
    assert.equal(ep.trustDomain.equals(bob), true);
    assert.equal(
      ep.describe(),
      'https_spiffe https://bob.example.org/spiffe-bundle as spiffe://bob.example/control-plane/bundle-endpoint for bob.example',
    );
  });
});
