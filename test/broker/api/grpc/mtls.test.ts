// The TCP listener of taskpass.v1.Broker: mutual TLS with X509-SVIDs (real sockets on 127.0.0.1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { TestCa, testBundle } from '../../../support/test-ca.js';
import { AGENT, bearer, DEV_WORKLOAD, startHarness, type Harness } from './harness.js';

const { status } = grpc;

describe('taskpass.v1.Broker over TCP+mTLS', { timeout: 60_000 }, () => {
  let h: Harness;
  let other: TestCa;

  before(async () => {
    // A second trust domain the TLS layer accepts client certificates under, but the broker's bundle
    // source does not know: proves the chain is verified again, per trust domain, after the handshake.
    other = await TestCa.root('other.test');
    h = await startHarness({ extraTlsBundles: [testBundle('other.test', { roots: [other.cert] })] });
  });
  after(() => h.close());

  it('authenticates the client certificate as an X509-SVID (an operator lists tasks)', async () => {
    const out = await h.tlsClient(await h.x509(DEV_WORKLOAD)).call('ListTasks', {});
    assert.equal(out.status, undefined, out.details);
  });

  it('lets a bearer JWT-SVID win over the client certificate, as on HTTP', async () => {
    const client = h.tlsClient(await h.x509(DEV_WORKLOAD));
    const out = await client.call('ListTasks', {}, bearer(await h.jwt(AGENT)));
    assert.equal(out.status, status.PERMISSION_DENIED);
    assert.equal(out.code, 'BROKER_POLICY_DENIED');
  });

  it('refuses a client without a certificate at the handshake: no call reaches the broker', async () => {
    const before = await h.eventCount();
    const out = await h.tlsClient().call('StartTask', {}, bearer(await h.jwt(DEV_WORKLOAD)));
    assert.equal(out.status, status.UNAVAILABLE);
    assert.equal(out.code, undefined);
    assert.equal(await h.eventCount(), before);
  });

  it('refuses a client certificate from an untrusted CA at the handshake', async () => {
    const rogue = await TestCa.root('taskpass.local');
    const leaf = await rogue.leaf({ id: DEV_WORKLOAD });
    const out = await h.tlsClient(leaf.svid).call('ListTasks', {});
    assert.equal(out.status, status.UNAVAILABLE);
    assert.equal(out.code, undefined);
  });

  it('refuses a chain TLS accepted under another trust domain root that the broker does not trust', async () => {
    const leaf = await other.leaf({ id: 'spiffe://other.test/workload' });
    const out = await h.tlsClient(leaf.svid).call('ListTasks', {});
    assert.equal(out.status, status.UNAUTHENTICATED);
    assert.equal(out.code, 'BROKER_AUTH_INVALID');
  });

  it('presents a rotated SVID to new connections after rekey()', async () => {
    const client = await h.x509(DEV_WORKLOAD);
    const seenBefore: Buffer[] = [];
    assert.equal((await h.tlsClient(client, seenBefore).call('ListTasks', {})).status, undefined);
    const rotated = await h.rotateBrokerSvid();
    const seenAfter: Buffer[] = [];
    assert.equal((await h.tlsClient(client, seenAfter).call('ListTasks', {})).status, undefined);
    assert.ok(seenBefore.length > 0 && seenAfter.length > 0);
    assert.notDeepEqual(seenAfter[0], seenBefore[0]);
    assert.deepEqual(seenAfter[0], rotated);
  });
});
