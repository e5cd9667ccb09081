import { before, describe, it } from 'node:test';
import { verifyX509Svid } from '../../spiffe/x509-svid.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';
import type { Certificate } from '../../spiffe/bundle.js';
import { parseDerCertificate } from '../../spiffe/pem.js';
import { x509 } from '../../spiffe/internal/x509.js';
import { staticSource, TestCa, testBundle } from '../support/test-ca.js';
import { fixture, HOUR, KU, NOW, rejects, type Fixture } from './x509-fixture.js';

/** Flips the last byte of the DER (inside the signature value) so the signature no longer verifies. */
function tamper(cert: Certificate): Certificate {
  const der = new Uint8Array(cert.rawData.slice(0));
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  return parseDerCertificate(der);
}

/** DER of a nameConstraints value permitting one URI host (RFC 5280 §4.2.1.10). */
function permittedUriHost(host: string): Uint8Array {
  const name = Buffer.from(host, 'ascii');
  const uri = Buffer.concat([Buffer.from([0x86, name.length]), name]);
  const subtree = Buffer.concat([Buffer.from([0x30, uri.length]), uri]);
  const permitted = Buffer.concat([Buffer.from([0xa0, subtree.length]), subtree]);
  return Buffer.concat([Buffer.from([0x30, permitted.length]), permitted]);
}

interface PathCase {
  name: string;
  chain: (f: Fixture) => Promise<Certificate[]>;
  now?: Date;
  code: SpiffeErrorCode;
}

// RFC 5280 §6.1 and X509-SVID §4, §5.1: each case breaks exactly one rule.
const cases: PathCase[] = [
  { name: 'rejects an empty chain', chain: async () => [], code: 'SPIFFE_X509_EMPTY_CHAIN' },
  {
    name: 'rejects a chain missing its intermediate',
    chain: async ({ inter }) => [(await inter.leaf()).cert],
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a self-signed leaf',
    chain: async ({ root }) => (await root.leaf({ selfSigned: true })).chain,
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf claiming example.org issued by the other.org root (anchored to its own trust domain)',
    chain: async ({ foreign }) => (await foreign.leaf({ id: 'spiffe://example.org/workload' })).chain,
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf claiming other.org issued by an example.org root',
    chain: async ({ root }) => (await root.leaf({ id: 'spiffe://other.org/workload' })).chain,
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf signed by a foreign key under the same subject name as a trusted root',
    chain: async ({ root }) => {
      const impostor = await TestCa.root('other.org', { now: NOW, subject: root.cert.subject });
      return (await impostor.leaf()).chain;
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf whose signature was tampered with',
    chain: async ({ inter }) => {
      const leaf = await inter.leaf();
      return [tamper(leaf.cert), inter.cert];
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects an intermediate whose signature was tampered with',
    chain: async ({ inter }) => {
      const leaf = await inter.leaf();
      return [leaf.cert, tamper(inter.cert)];
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a trust domain without a bundle',
    chain: async ({ root }) => (await root.leaf({ id: 'spiffe://unknown.org/workload' })).chain,
    code: 'SPIFFE_BUNDLE_NOT_FOUND',
  },
  {
    name: 'rejects an intermediate that is not a CA',
    chain: async ({ root }) => (await (await root.intermediate({ isCa: false })).leaf()).chain,
    code: 'SPIFFE_X509_SIGNER_NOT_CA',
  },
  {
    name: 'rejects an intermediate without basicConstraints',
    chain: async ({ root }) => (await (await root.intermediate({ isCa: null })).leaf()).chain,
    code: 'SPIFFE_X509_SIGNER_NOT_CA',
  },
  {
    name: 'rejects an intermediate without keyCertSign',
    chain: async ({ root }) => (await (await root.intermediate({ keyUsage: KU.cRLSign })).leaf()).chain,
    code: 'SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN',
  },
  {
    name: 'rejects an intermediate without a keyUsage extension',
    chain: async ({ root }) => (await (await root.intermediate({ keyUsage: null })).leaf()).chain,
    code: 'SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN',
  },
  {
    name: 'rejects an expired leaf',
    chain: async ({ inter }) => (await inter.leaf({ notAfter: new Date(NOW.getTime() - 1) })).chain,
    code: 'SPIFFE_X509_EXPIRED',
  },
  {
    name: 'rejects a leaf that is not yet valid',
    chain: async ({ inter }) => (await inter.leaf({ notBefore: new Date(NOW.getTime() + 1000) })).chain,
    code: 'SPIFFE_X509_NOT_YET_VALID',
  },
  {
    name: 'rejects an expired intermediate',
    chain: async ({ root }) =>
      (await (await root.intermediate({ notAfter: new Date(NOW.getTime() - HOUR) })).leaf()).chain,
    code: 'SPIFFE_X509_EXPIRED',
  },
  {
    name: 'rejects a chain whose root has expired',
    chain: async ({ inter }) =>
      (await inter.leaf({ notAfter: new Date(NOW.getTime() + 400 * 24 * HOUR) })).chain,
    now: new Date(NOW.getTime() + 366 * 24 * HOUR),
    code: 'SPIFFE_X509_EXPIRED',
  },
  {
    name: 'rejects a chain longer than its pathLenConstraint allows',
    chain: async ({ root }) => {
      const capped = await root.intermediate({ pathLength: 0 });
      const below = await capped.intermediate();
      return (await below.leaf()).chain;
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf outside the URI name constraints of its issuer (checked by pkijs)',
    chain: async ({ root }) => {
      const constraint = new x509.Extension('2.5.29.30', true, permittedUriHost('other.org'));
      return (await (await root.intermediate({ extraExtensions: [constraint] })).leaf()).chain;
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a leaf with an unrecognized critical extension',
    chain: async ({ inter }) => {
      const unknown = new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([0x05, 0x00]));
      return (await inter.leaf({ extraExtensions: [unknown] })).chain;
    },
    code: 'SPIFFE_X509_UNTRUSTED',
  },
  {
    name: 'rejects a chain of more than 16 certificates',
    chain: async ({ inter }) => {
      const leaf = await inter.leaf();
      return [leaf.cert, ...Array.from({ length: 16 }, () => inter.cert)];
    },
    code: 'SPIFFE_X509_MALFORMED',
  },
];

describe('verifyX509Svid: path validation', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });

  for (const c of cases) {
    it(c.name, async () => {
      await rejects(verifyX509Svid(await c.chain(f), f.source, { now: c.now ?? NOW }), c.code);
    });
  }

  it('accepts a leaf inside the URI name constraints of its issuer', async () => {
    const constraint = new x509.Extension('2.5.29.30', true, permittedUriHost('example.org'));
    const leaf = await (await f.root.intermediate({ extraExtensions: [constraint] })).leaf();
    await verifyX509Svid(leaf.chain, f.source, { now: NOW });
  });

  it('rejects every chain when the bundle has no X.509 authority', async () => {
    const leaf = await f.root.leaf();
    const source = staticSource(testBundle('example.org'));
    await rejects(verifyX509Svid(leaf.chain, source, { now: NOW }), 'SPIFFE_X509_UNTRUSTED');
  });

  it('finds the signing root among several roots sharing its subject name', async () => {
    const old = await TestCa.root('rotate.org', { now: NOW });
    const fresh = await TestCa.root('rotate.org', { now: NOW, subject: old.cert.subject });
    const leaf = await fresh.leaf();
    const expired = await TestCa.root('rotate.org', {
      now: NOW,
      subject: old.cert.subject,
      notAfter: new Date(NOW.getTime() - HOUR),
    });
    const source = staticSource(testBundle('rotate.org', { roots: [expired.cert, fresh.cert] }));
    await verifyX509Svid(leaf.chain, source, { now: NOW });
  });
});
