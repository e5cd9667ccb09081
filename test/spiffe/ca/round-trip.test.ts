import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDevCa } from '../../../spiffe/ca/index.js';
import { bundleNotFound, type BundleSource } from '../../../spiffe/bundle.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { verifyX509Svid } from '../../../spiffe/x509-svid.js';

const td = TrustDomain.parse('example.org');
const workload = SpiffeId.parse('spiffe://example.org/ns/prod/sa/agent');
const t0 = new Date('2030-01-01T00:00:00.000Z');

describe('DevCa round trip through the verifiers', () => {
  for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
    it(`mints ${keyType} X509-SVIDs that verifyX509Svid accepts against the CA's bundle`, async () => {
      const ca = await createDevCa({ trustDomain: td, clock: { now: () => t0 } });
      const source: BundleSource = {
        getBundleForTrustDomain: (t) => (t.equals(td) ? ca.bundle() : bundleNotFound(t)),
      };
      const svid = await ca.mintX509Svid({ id: workload, now: t0, keyType });
      const verified = await verifyX509Svid(svid.certificates, source, { now: t0 });
      assert.ok(verified.id.equals(workload));
      assert.equal(verified.expiresAt.getTime(), svid.expiresAt.getTime());
    });
  }
});
