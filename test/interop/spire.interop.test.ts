// Interop against a real SPIRE server and agent (built from SPIRE's Go module by scripts/install-peers.sh):
// taskpass's Workload API client fetches this workload's SVIDs and bundles from the agent, and taskpass's
// verifiers accept them; tampered and foreign SVIDs are rejected with the right codes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../spiffe/clock.js';
import type { BundleSet } from '../../spiffe/bundle-set.js';
import { verifyJwtSvid } from '../../spiffe/jwt-svid.js';
import { parseCertificates, parseDerCertificate } from '../../spiffe/pem.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import {
  createWorkloadApiClient,
  type WorkloadApiClient,
  type X509Context,
} from '../../spiffe/workload-api/index.js';
import { verifyX509Svid } from '../../spiffe/x509-svid.js';
import { TestCa, TestJwtAuthority } from '../support/test-ca.js';
import { peers, requirePeers } from './support/peers.js';
import { startSpire, type SpireDeployment } from './support/spire.js';

const TRUST_DOMAIN = 'interop.test';
const AUDIENCE = 'taskpass-interop';
const gate = requirePeers('spire', ['spire']);

/** `token` with one byte of its signature flipped (decoded, so base64url padding bits cannot hide it). */
function tamperJwt(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const sig = Buffer.from(signature, 'base64url');
  const at = sig.length >> 1;
  sig[at] = (sig[at] ?? 0) ^ 0x01;
  return `${header}.${payload}.${sig.toString('base64url')}`;
}

/** `der` with the last byte (inside the signature BIT STRING) flipped. */
function tamperCertificate(der: ArrayBuffer): Uint8Array {
  const bytes = new Uint8Array(der.slice(0));
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0x01;
  return bytes;
}

describe(
  'interop: taskpass verifies what a real SPIRE agent issues',
  { skip: gate.skip, timeout: 180_000 },
  () => {
    let spire: SpireDeployment;
    let client: WorkloadApiClient;
    let x509: X509Context;
    let jwtBundles: BundleSet;

    before(async () => {
      spire = await startSpire(peers(), { trustDomain: TRUST_DOMAIN, timeoutMs: 90_000 });
      client = createWorkloadApiClient({
        socketPath: spire.agentAddress,
        clock: systemClock,
        timeoutMs: 20_000,
      });
      x509 = await client.fetchX509Context();
      jwtBundles = await client.fetchJwtBundles();
    });

    after(async () => {
      client?.close();
      await spire?.stop();
    });

    it('fetches the registered X509-SVID and verifies it against the bundles the agent serves', async () => {
      const [svid] = x509.svids;
      assert.ok(svid, 'the agent returned no X509-SVID');
      assert.equal(svid.id.toString(), spire.workloadId);
      const verified = await verifyX509Svid(svid.certificates, x509.bundles, { now: new Date() });
      assert.equal(verified.id.toString(), spire.workloadId);
      assert.ok(verified.expiresAt.getTime() > Date.now());
      assert.equal(verified.leaf.serialNumber, svid.certificates[0]?.serialNumber);
    });

    it('serves the same X.509 authorities as `spire-server bundle show`', async () => {
      const td = TrustDomain.parse(TRUST_DOMAIN);
      const fromServer = parseCertificates(await spire.serverCli('bundle', 'show')).map((c) =>
        c.toString('base64'),
      );
      const fromContext = x509.bundles
        .getBundleForTrustDomain(td)
        .x509Authorities.map((c) => c.toString('base64'));
      const fromBundles = (await client.fetchX509Bundles())
        .getBundleForTrustDomain(td)
        .x509Authorities.map((c) => c.toString('base64'));
      assert.deepEqual([...fromContext].sort(), [...fromServer].sort());
      assert.deepEqual([...fromBundles].sort(), [...fromServer].sort());
    });

    it('fetches a JWT-SVID and verifies it against the JWT bundles the agent serves', async () => {
      const svid = await client.fetchJwtSvid({ audience: AUDIENCE });
      assert.equal(svid.id.toString(), spire.workloadId);
      assert.deepEqual([...svid.audience], [AUDIENCE]);
      const verified = await verifyJwtSvid(svid.token, jwtBundles, { now: new Date(), audience: AUDIENCE });
      assert.equal(verified.id.toString(), spire.workloadId);
      assert.equal(verified.expiresAt.getTime(), svid.expiresAt.getTime());
      // And the agent itself accepts the token through ValidateJWTSVID.
      const validated = await client.validateJwtSvid(svid.token, AUDIENCE);
      assert.equal(validated.id.toString(), spire.workloadId);
    });

    it('rejects a JWT-SVID from the agent presented for another audience', async () => {
      const svid = await client.fetchJwtSvid({ audience: AUDIENCE });
      await assert.rejects(
        verifyJwtSvid(svid.token, jwtBundles, { now: new Date(), audience: 'someone-else' }),
        {
          code: 'SPIFFE_JWT_AUDIENCE_MISMATCH',
        },
      );
    });

    it('rejects the agent-issued X509-SVID with one signature byte flipped', async () => {
      const [svid] = x509.svids;
      assert.ok(svid);
      const [leaf, ...rest] = svid.certificates;
      assert.ok(leaf);
      const tampered = parseDerCertificate(tamperCertificate(leaf.rawData));
      await assert.rejects(verifyX509Svid([tampered, ...rest], x509.bundles, { now: new Date() }), {
        code: 'SPIFFE_X509_UNTRUSTED',
      });
    });

    it('rejects the agent-issued JWT-SVID with one signature byte flipped', async () => {
      const svid = await client.fetchJwtSvid({ audience: AUDIENCE });
      await assert.rejects(
        verifyJwtSvid(tamperJwt(svid.token), jwtBundles, { now: new Date(), audience: AUDIENCE }),
        {
          code: 'SPIFFE_JWT_BAD_SIGNATURE',
        },
      );
    });

    it('rejects an X509-SVID of the same trust domain name minted by a CA that SPIRE does not trust', async () => {
      const impostor = await TestCa.root(TRUST_DOMAIN);
      const leaf = await impostor.leaf({ id: spire.workloadId });
      await assert.rejects(verifyX509Svid(leaf.chain, x509.bundles, { now: new Date() }), {
        code: 'SPIFFE_X509_UNTRUSTED',
      });
    });

    it('rejects an X509-SVID of a foreign trust domain the agent has no bundle for', async () => {
      const foreign = await TestCa.root('foreign.test');
      const leaf = await foreign.leaf({ id: 'spiffe://foreign.test/workload' });
      await assert.rejects(verifyX509Svid(leaf.chain, x509.bundles, { now: new Date() }), {
        code: 'SPIFFE_BUNDLE_NOT_FOUND',
      });
    });

    it('rejects a JWT-SVID for the workload signed by a key that is not in the SPIRE bundle', async () => {
      const forger = new TestJwtAuthority('ES256');
      const token = forger.mint({ sub: spire.workloadId, aud: [AUDIENCE] });
      await assert.rejects(verifyJwtSvid(token, jwtBundles, { now: new Date(), audience: AUDIENCE }), {
        code: 'SPIFFE_JWT_UNKNOWN_KID',
      });
    });

    it("rejects a JWT-SVID signed by another key under the kid of SPIRE's JWT authority", async () => {
      const [kid] = jwtBundles.getBundleForTrustDomain(TrustDomain.parse(TRUST_DOMAIN)).jwtAuthorities.keys();
      assert.ok(kid, 'the agent served no JWT authority');
      const forger = new TestJwtAuthority('ES256', kid);
      const token = forger.mint({ sub: spire.workloadId, aud: [AUDIENCE] });
      await assert.rejects(verifyJwtSvid(token, jwtBundles, { now: new Date(), audience: AUDIENCE }), {
        code: 'SPIFFE_JWT_BAD_SIGNATURE',
      });
    });

    it('rejects a JWT-SVID of a foreign trust domain the agent has no bundle for', async () => {
      const forger = new TestJwtAuthority('ES256');
      const token = forger.mint({ sub: 'spiffe://foreign.test/workload', aud: [AUDIENCE] });
      await assert.rejects(verifyJwtSvid(token, jwtBundles, { now: new Date(), audience: AUDIENCE }), {
        code: 'SPIFFE_BUNDLE_NOT_FOUND',
      });
    });
  },
);
