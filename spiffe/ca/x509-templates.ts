import { generateKeyPair, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SpiffeError } from '../errors.js';
import { x509 } from '../internal/x509.js';
import type { Certificate } from '../bundle.js';
import type { SpiffeId } from '../spiffe-id.js';
import type { TrustDomain } from '../trust-domain.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Key types the development CA issues X509-SVIDs for (SPIRE's `ec-p256` default and `rsa-2048`). */
export type X509KeyType = 'ec-p256' | 'rsa-2048';

/** The key types accepted by {@link generateX509KeyPair}. */
export const X509_KEY_TYPES: readonly X509KeyType[] = Object.freeze(['ec-p256', 'rsa-2048']);

/** How far notBefore is backdated to tolerate clock skew between the CA and relying parties. */
export const BACKDATE_SECONDS = 10;

/** A node:crypto key pair. */
export interface NodeKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Generates a fresh key pair of `keyType`.
 *
 * @throws {SpiffeError} `SPIFFE_CA_BAD_KEY_TYPE` for anything but `ec-p256` and `rsa-2048`.
 */
export async function generateX509KeyPair(keyType: string): Promise<NodeKeyPair> {
  switch (keyType) {
    case 'ec-p256':
      return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    case 'rsa-2048':
      return generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    default:
      throw new SpiffeError('SPIFFE_CA_BAD_KEY_TYPE', JSON.stringify(keyType));
  }
}

/** A random positive 128-bit serial number, hex encoded (RFC 5280 §4.1.2.2 allows up to 20 octets). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  // Keep the value non-zero; @peculiar/x509 adds the sign octet when the top bit is set.
  if (bytes.every((b) => b === 0)) bytes[15] = 1;
  return bytes.toString('hex');
}

/** Imports a node:crypto private key as a WebCrypto signing key for @peculiar/x509. */
export async function toSigningKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const algorithm =
    privateKey.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}

/** The signature algorithm for certificates signed by `signer` (SHA-256 with the signer's key type). */
function signingAlgorithm(signer: webcrypto.CryptoKey): { name: string; hash: string } {
  return signer.algorithm.name === 'ECDSA'
    ? { name: 'ECDSA', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** Whole seconds: X.509 validity has one-second precision (RFC 5280 §4.1.2.5). */
export function floorToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Parameters of {@link createCaCertificate}. */
export interface CaCertificateParams {
  readonly trustDomain: TrustDomain;
  readonly keys: NodeKeyPair;
  readonly now: Date;
  readonly ttlSeconds: number;
}

/**
 * Creates the self-signed root of the development CA, shaped as SPIRE's server CA: basicConstraints
 * critical CA:true, keyUsage critical keyCertSign + cRLSign, the trust domain's SPIFFE ID as its URI SAN
 * (X509-SVID spec §4.1, §4.3), and a Subject Key Identifier that leaves reference.
 */
export async function createCaCertificate(params: CaCertificateParams): Promise<Certificate> {
  const notBefore = floorToSecond(new Date(params.now.getTime() - BACKDATE_SECONDS * 1000));
  const notAfter = floorToSecond(new Date(params.now.getTime() + params.ttlSeconds * 1000));
  const signingKey = await toSigningKey(params.keys.privateKey);
  const publicKey = spki(params.keys.publicKey);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `C=US, O=SPIFFE, CN=taskpass development CA ${params.trustDomain.name}`,
    issuer: `C=US, O=SPIFFE, CN=taskpass development CA ${params.trustDomain.name}`,
    notBefore,
    notAfter,
    publicKey,
    signingKey,
    signingAlgorithm: signingAlgorithm(signingKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: params.trustDomain.idString }]),
    ],
  });
}

/** Parameters of {@link createLeafCertificate}. */
export interface LeafCertificateParams {
  readonly id: SpiffeId;
  readonly publicKey: KeyObject;
  readonly caCertificate: Certificate;
  readonly caSigningKey: webcrypto.CryptoKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames?: readonly string[];
}

/** The key usage of a leaf: digitalSignature, plus keyEncipherment for RSA keys (as SPIRE sets it). */
function leafKeyUsage(publicKey: KeyObject): number {
  const flags = x509.KeyUsageFlags.digitalSignature;
  return publicKey.asymmetricKeyType === 'rsa' ? flags | x509.KeyUsageFlags.keyEncipherment : flags;
}

/**
 * Creates an X509-SVID leaf (X509-SVID spec §2, §4): exactly one URI SAN (the SPIFFE ID, first) plus
 * optional DNS SANs, basicConstraints critical CA:false (§4.1), keyUsage critical digitalSignature
 * (+keyEncipherment for RSA) and never keyCertSign/cRLSign (§4.3), extKeyUsage serverAuth + clientAuth
 * (§4.4), Subject and Authority Key Identifiers (RFC 5280 §4.2.1.1–2).
 */
export async function createLeafCertificate(params: LeafCertificateParams): Promise<Certificate> {
  const publicKey = spki(params.publicKey);
  const caSki = params.caCertificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(params.caCertificate.publicKey);
  const names: x509.JsonGeneralName[] = [{ type: 'url', value: params.id.toString() }];
  for (const dns of params.dnsNames ?? []) names.push({ type: 'dns', value: dns });
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'C=US, O=taskpass',
    issuer: params.caCertificate.subjectName,
    notBefore: floorToSecond(params.notBefore),
    notAfter: floorToSecond(params.notAfter),
    publicKey,
    signingKey: params.caSigningKey,
    signingAlgorithm: signingAlgorithm(params.caSigningKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(leafKeyUsage(params.publicKey), true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      aki,
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
}
