import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { x509 } from '../../../spiffe/internal/x509.js';
import { createDevCa, type DevCa } from '../../../spiffe/ca/index.js';
import { isSpiffeError, type SpiffeErrorCode } from '../../../spiffe/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import type { Certificate } from '../../../spiffe/bundle.js';

const td = TrustDomain.parse('example.org');
const workload = SpiffeId.parse('spiffe://example.org/ns/prod/sa/agent');
const t0 = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => t0 };
const seconds = (n: number): number => n * 1000;

function caCert(ca: DevCa): Certificate {
  const cert = ca.bundle().x509Authorities[0];
  assert.ok(cert);
  return cert;
}

function rejectsWith(code: SpiffeErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isSpiffeError(err), `expected a SpiffeError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

function uriSans(cert: Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
}

describe('DevCa CA certificate', async () => {
  const ca = await createDevCa({ trustDomain: td, clock });

  it('is a self-signed CA with keyCertSign and cRLSign and the trust domain as URI SAN', async () => {
    const cert = caCert(ca);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    assert.ok(bc);
    assert.equal(bc.ca, true);
    assert.equal(bc.critical, true);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    assert.ok(ku);
    assert.equal(ku.critical, true);
    assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.deepEqual(uriSans(cert), ['spiffe://example.org']);
    assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension));
    assert.equal(await cert.isSelfSigned(), true);
  });

  it('is valid for one year from the clock, backdated for skew', () => {
    const cert = caCert(ca);
    assert.equal(cert.notBefore.getTime(), t0.getTime() - seconds(10));
    assert.equal(cert.notAfter.getTime(), t0.getTime() + seconds(365 * 24 * 3600));
  });
});

describe('DevCa.mintX509Svid leaf rules (X509-SVID spec §4)', async () => {
  const ca = await createDevCa({ trustDomain: td, clock });

  for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
    it(`mints a ${keyType} leaf with one URI SAN, CA:false and only leaf key usages`, async () => {
      const svid = await ca.mintX509Svid({ id: workload, now: t0, keyType });
      assert.equal(svid.certificates.length, 1);
      const leaf = svid.certificates[0] as Certificate;
      assert.ok(svid.id.equals(workload));
      assert.deepEqual(uriSans(leaf), [workload.toString()]);
      const bc = leaf.getExtension(x509.BasicConstraintsExtension);
      assert.ok(bc);
      assert.equal(bc.ca, false);
      const ku = leaf.getExtension(x509.KeyUsagesExtension);
      assert.ok(ku);
      const expected =
        keyType === 'rsa-2048'
          ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
          : x509.KeyUsageFlags.digitalSignature;
      assert.equal(ku.usages, expected);
      assert.equal(ku.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign), 0);
      const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
      assert.ok(eku);
      assert.deepEqual(
        [...eku.usages].sort(),
        [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth].sort(),
      );
      assert.equal(svid.privateKey.asymmetricKeyType, keyType === 'rsa-2048' ? 'rsa' : 'ec');
    });
  }

  it('carries subject and authority key identifiers linking the leaf to the CA', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0 });
    const leaf = svid.certificates[0] as Certificate;
    const caSki = caCert(ca).getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension);
    assert.ok(caSki && aki);
    assert.equal(aki.keyId, caSki.keyId);
    assert.ok(leaf.getExtension(x509.SubjectKeyIdentifierExtension));
    assert.equal(leaf.issuer, caCert(ca).subject);
  });

  it('chains to the CA certificate', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0 });
    const leaf = svid.certificates[0] as Certificate;
    assert.equal(await leaf.verify({ publicKey: caCert(ca).publicKey, date: t0 }), true);
  });

  it('returns the private key of the certified public key', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0 });
    const leaf = svid.certificates[0] as Certificate;
    const fromCert = createPublicKey({
      key: Buffer.from(leaf.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
    assert.ok(createPublicKey(svid.privateKey).equals(fromCert));
  });

  it('adds requested DNS names after the SPIFFE ID', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0, dnsNames: ['localhost', 'agent.internal'] });
    const san = (svid.certificates[0] as Certificate).getExtension(x509.SubjectAlternativeNameExtension);
    assert.deepEqual(
      san?.names.items.map((n) => [n.type, n.value]),
      [
        ['url', workload.toString()],
        ['dns', 'localhost'],
        ['dns', 'agent.internal'],
      ],
    );
  });

  it('uses random serials of at most 128 bits', async () => {
    const a = await ca.mintX509Svid({ id: workload, now: t0 });
    const b = await ca.mintX509Svid({ id: workload, now: t0 });
    const serials = [a, b].map((s) => (s.certificates[0] as Certificate).serialNumber.replace(/^00/, ''));
    assert.notEqual(serials[0], serials[1]);
    for (const s of serials) assert.ok(s.length <= 32 && s.length >= 2);
  });
});

describe('DevCa.mintX509Svid lifetimes', async () => {
  const ca = await createDevCa({ trustDomain: td, clock, caTtlSeconds: 7200, maxTtlSeconds: 5400 });

  it('defaults to one hour, backdating notBefore by ten seconds', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0 });
    const leaf = svid.certificates[0] as Certificate;
    assert.equal(leaf.notBefore.getTime(), t0.getTime() - seconds(10));
    assert.equal(leaf.notAfter.getTime(), t0.getTime() + seconds(3600));
    assert.equal(svid.expiresAt.getTime(), leaf.notAfter.getTime());
  });

  it('honours a requested ttl', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0, ttlSeconds: 60 });
    assert.equal(svid.expiresAt.getTime(), t0.getTime() + seconds(60));
  });

  it('caps the ttl at maxTtlSeconds', async () => {
    const svid = await ca.mintX509Svid({ id: workload, now: t0, ttlSeconds: 6000 });
    assert.equal(svid.expiresAt.getTime(), t0.getTime() + seconds(5400));
  });

  it('never outlives the CA certificate', async () => {
    const later = new Date(t0.getTime() + seconds(7000));
    const svid = await ca.mintX509Svid({ id: workload, now: later, ttlSeconds: 3600 });
    assert.equal(svid.expiresAt.getTime(), caCert(ca).notAfter.getTime());
  });

  it('re-creates an expired CA certificate before minting', async () => {
    const expiredCa = await createDevCa({ trustDomain: td, clock, caTtlSeconds: 60 });
    const before = caCert(expiredCa);
    const later = new Date(t0.getTime() + seconds(120));
    const svid = await expiredCa.mintX509Svid({ id: workload, now: later });
    const after = caCert(expiredCa);
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.ok(svid.expiresAt.getTime() > later.getTime());
    assert.equal(
      await (svid.certificates[0] as Certificate).verify({ publicKey: after.publicKey, date: later }),
      true,
    );
  });
});

describe('DevCa.mintX509Svid rejections', async () => {
  const ca = await createDevCa({ trustDomain: td, clock });
  const cases: { name: string; opts: Parameters<DevCa['mintX509Svid']>[0]; code: SpiffeErrorCode }[] = [
    {
      name: 'an id of another trust domain',
      opts: { id: SpiffeId.parse('spiffe://other.org/w'), now: t0 },
      code: 'SPIFFE_CA_FOREIGN_TRUST_DOMAIN',
    },
    { name: 'a zero ttl', opts: { id: workload, now: t0, ttlSeconds: 0 }, code: 'SPIFFE_CA_BAD_TTL' },
    { name: 'a negative ttl', opts: { id: workload, now: t0, ttlSeconds: -5 }, code: 'SPIFFE_CA_BAD_TTL' },
    { name: 'a fractional ttl', opts: { id: workload, now: t0, ttlSeconds: 1.5 }, code: 'SPIFFE_CA_BAD_TTL' },
    { name: 'a NaN ttl', opts: { id: workload, now: t0, ttlSeconds: Number.NaN }, code: 'SPIFFE_CA_BAD_TTL' },
    {
      name: 'an unknown key type',
      opts: { id: workload, now: t0, keyType: 'ed25519' as never },
      code: 'SPIFFE_CA_BAD_KEY_TYPE',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      await assert.rejects(ca.mintX509Svid(c.opts), rejectsWith(c.code));
    });
  }

  it('rejects non-positive TTL options at creation', async () => {
    await assert.rejects(
      createDevCa({ trustDomain: td, clock, defaultX509TtlSeconds: 0 }),
      rejectsWith('SPIFFE_CA_BAD_TTL'),
    );
    await assert.rejects(
      createDevCa({ trustDomain: td, clock, maxTtlSeconds: 2.5 }),
      rejectsWith('SPIFFE_CA_BAD_TTL'),
    );
  });
});
