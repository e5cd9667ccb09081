import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpsWebEndpoint } from '../../../spiffe/federation/https-web-endpoint.js';
import { marshalBundle } from '../../../spiffe/bundle-json.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../../spiffe/errors.js';
import { createTestLeaf, createTestRoot, type TestCert } from '../bundle-fixtures.js';
import { startBundleServer, unusedUrl, type ServedResponse, type TestBundleServer } from './bundle-server.js';

const bob = TrustDomain.parse('bob.example');
const TIMEOUT = { timeoutMs: 2_000 };

let webCa: TestCert;
let otherCa: TestCert;
let bobRoot: TestCert;
let server: TestBundleServer;
let wrongHostServer: TestBundleServer;
let bobBundleJson: string;

before(async () => {
  webCa = await createTestRoot('web-ca.test');
  otherCa = await createTestRoot('other-ca.test');
  bobRoot = await createTestRoot('bob.example');
  bobBundleJson = marshalBundle(
    new SpiffeBundle({
      trustDomain: bob,
      x509Authorities: [bobRoot.cert],
      sequenceNumber: 3,
      refreshHintSeconds: 120,
    }),
  );
  server = await startBundleServer(
    await createTestLeaf(webCa, { ips: ['127.0.0.1'], dnsNames: ['localhost'] }),
  );
  wrongHostServer = await startBundleServer(
    await createTestLeaf(webCa, { dnsNames: ['bundle.other.example'] }),
  );
});

after(async () => {
  await server.close();
  await wrongHostServer.close();
});

describe('HttpsWebEndpoint (Trust Domain and Bundle §5.2.1)', () => {
  it('fetches the bundle over Web PKI and files it under the configured trust domain', async () => {
    server.respondWith({ body: bobBundleJson });
    const endpoint = new HttpsWebEndpoint({
      trustDomain: bob,
      url: server.url,
      ca: webCa.certPem,
      ...TIMEOUT,
    });
    const bundle = await endpoint.fetchBundle();
    assert.equal(bundle.trustDomain.equals(bob), true);
    assert.equal(bundle.x509Authorities[0]?.equal(bobRoot.cert), true);
    assert.equal(bundle.sequenceNumber, 3);
    assert.equal(bundle.refreshHintSeconds, 120);
  });

  it('connects anew for each fetch', async () => {
    server.respondWith({ body: bobBundleJson });
    const endpoint = new HttpsWebEndpoint({
      trustDomain: bob,
      url: server.url,
      ca: webCa.certPem,
      ...TIMEOUT,
    });
    const before = server.requests();
    await endpoint.fetchBundle();
    await endpoint.fetchBundle();
    assert.equal(server.requests() - before, 2);
  });

  const failures: Array<{
    name: string;
    response: ServedResponse;
    code: SpiffeErrorCode;
    maxBytes?: number;
  }> = [
    { name: 'a body that is not JSON', response: { body: '<html>' }, code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'a JSON body without keys', response: { body: '{}' }, code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'a bundle with a private key',
      response: { body: '{"keys":[{"kty":"oct","use":"jwt-svid","kid":"a","k":"AA"}]}' },
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a 404 status',
      response: { status: 404, body: 'not found' },
      code: 'SPIFFE_BUNDLE_FETCH_FAILED',
    },
    { name: 'a 500 status', response: { status: 500 }, code: 'SPIFFE_BUNDLE_FETCH_FAILED' },
    {
      name: 'a redirect, which is not followed',
      response: { status: 302, headers: { location: 'https://example.com/' } },
      code: 'SPIFFE_BUNDLE_FETCH_FAILED',
    },
    {
      name: 'a body over the size limit',
      response: { body: JSON.stringify({ keys: [], pad: 'x'.repeat(5000) }) },
      code: 'SPIFFE_BUNDLE_MALFORMED',
      maxBytes: 1024,
    },
    { name: 'no response before the timeout', response: { hang: true }, code: 'SPIFFE_BUNDLE_FETCH_FAILED' },
  ];
  for (const c of failures) {
    it(`rejects ${c.name} with ${c.code}`, async () => {
      server.respondWith(c.response);
      const endpoint = new HttpsWebEndpoint({
        trustDomain: bob,
        url: server.url,
        ca: webCa.certPem,
        timeoutMs: 300,
        ...(c.maxBytes ? { maxBytes: c.maxBytes } : {}),
      });
      await assert.rejects(endpoint.fetchBundle(), { code: c.code });
    });
  }

  it('rejects a server whose certificate chains to another CA', async () => {
    server.respondWith({ body: bobBundleJson });
    const endpoint = new HttpsWebEndpoint({
      trustDomain: bob,
      url: server.url,
      ca: otherCa.certPem,
      ...TIMEOUT,
    });
    await assert.rejects(endpoint.fetchBundle(), { code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED' });
  });

  it('rejects a test CA that the public root store does not know when no ca is given', async () => {
    server.respondWith({ body: bobBundleJson });
    const endpoint = new HttpsWebEndpoint({ trustDomain: bob, url: server.url, ...TIMEOUT });
    await assert.rejects(endpoint.fetchBundle(), { code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED' });
  });

  it('rejects a trusted certificate issued for another host name', async () => {
    wrongHostServer.respondWith({ body: bobBundleJson });
    const endpoint = new HttpsWebEndpoint({
      trustDomain: bob,
      url: wrongHostServer.url,
      ca: webCa.certPem,
      ...TIMEOUT,
    });
    await assert.rejects(endpoint.fetchBundle(), { code: 'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED' });
  });

  it('reports a server that is down with SPIFFE_BUNDLE_FETCH_FAILED', async () => {
    const endpoint = new HttpsWebEndpoint({
      trustDomain: bob,
      url: await unusedUrl(),
      ca: webCa.certPem,
      ...TIMEOUT,
    });
    await assert.rejects(endpoint.fetchBundle(), { code: 'SPIFFE_BUNDLE_FETCH_FAILED' });
  });

  const badUrls = [
    'http://127.0.0.1/bundle',
    '/relative/bundle',
    'https://user:pw@127.0.0.1/bundle',
    'not a url',
  ];
  for (const url of badUrls) {
    it(`refuses the endpoint URL ${url} with SPIFFE_BUNDLE_BAD_ENDPOINT`, () => {
      assert.throws(() => new HttpsWebEndpoint({ trustDomain: bob, url }), {
        code: 'SPIFFE_BUNDLE_BAD_ENDPOINT',
      });
    });
  }

  it('describes itself by URL and trust domain', () => {
    const endpoint = new HttpsWebEndpoint({ trustDomain: bob, url: 'https://bob.example.org/spiffe-bundle' });
    assert.equal(endpoint.describe(), 'https_web https://bob.example.org/spiffe-bundle for bob.example');
  });
});
