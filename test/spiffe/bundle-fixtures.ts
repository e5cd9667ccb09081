// Test-time PKI for the bundle and federation suites: EC P-256 roots and leaves minted with
// @peculiar/x509, so no key material is committed.
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { x509 } from '../../spiffe/internal/x509.js';
import type { Certificate } from '../../spiffe/bundle.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

/** A certificate with its key, in the forms node:tls and the parsers want. */
export interface TestCert {
  readonly cert: Certificate;
  readonly certPem: string;
  readonly privateKey: KeyObject;
  readonly keyPem: string;
  readonly signingKey: webcrypto.CryptoKey;
}

function newKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

async function signer(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), EC, false, [
    'sign',
  ]);
}

function serial(): string {
  return '01' + randomBytes(15).toString('hex');
}

async function finish(cert: Certificate, privateKey: KeyObject): Promise<TestCert> {
  return {
    cert,
    certPem: cert.toString('pem'),
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signingKey: await signer(privateKey),
  };
}

/** A self-signed CA shaped as a SPIFFE trust domain root (URI SAN `spiffe://<td>`). */
export async function createTestRoot(trustDomain: string, now = new Date()): Promise<TestCert> {
  const keys = newKeys();
  const name = `O=SPIFFE, CN=test root ${trustDomain}`;
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + 24 * HOUR),
    publicKey,
    signingKey: await signer(keys.privateKey),
    signingAlgorithm: SIG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      // Roots of one trust domain share a subject during rotation; the key identifiers tell them apart.
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  return finish(cert, keys.privateKey);
}

/** What a test leaf carries: SANs and whether it breaks the SVID leaf rules. */
export interface TestLeafOptions {
  readonly uris?: readonly string[];
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly now?: Date;
}

/**
 * A leaf signed by `issuer`, SVID-shaped (CA:false, digitalSignature, serverAuth + clientAuth), with the
 * given URI, IP and DNS SANs.
 */
export async function createTestLeaf(issuer: TestCert, opts: TestLeafOptions = {}): Promise<TestCert> {
  const keys = newKeys();
  const now = opts.now ?? new Date();
  const names: x509.JsonGeneralName[] = [
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'O=taskpass test leaf',
    issuer: issuer.cert.subjectName,
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + HOUR),
    publicKey: keys.publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: issuer.signingKey,
    signingAlgorithm: SIG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
    ],
  });
  return finish(cert, keys.privateKey);
}

/** A fresh EC P-256 key pair as JWKs (the public half is what a bundle holds). */
export function createJwtKeyPair(): { publicJwk: JsonWebKey; privateJwk: JsonWebKey } {
  const keys = newKeys();
  return {
    publicJwk: keys.publicKey.export({ format: 'jwk' }),
    privateJwk: keys.privateKey.export({ format: 'jwk' }),
  };
}

/** The standard base64 DER of `cert`, as `x5c` holds it. */
export function x5c(cert: Certificate): string {
  return Buffer.from(cert.rawData).toString('base64');
}

/** The public JWK members of `cert`'s key. */
export function certJwk(cert: Certificate): JsonWebKey {
  return createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' }).export({
    format: 'jwk',
  });
}
