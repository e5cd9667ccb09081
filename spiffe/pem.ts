import { SpiffeError } from './errors.js';
import type { Certificate } from './bundle.js';
import { x509 } from './internal/x509.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
const CERTIFICATE_LABEL = 'CERTIFICATE';

/**
 * Parses one DER certificate.
 *
 * @throws {SpiffeError} `SPIFFE_X509_MALFORMED` when `der` is not exactly one DER-encoded X.509 certificate
 * (RFC 5280 §4.1), trailing bytes included.
 */
export function parseDerCertificate(der: Uint8Array): Certificate {
  if (derLength(der, 0) !== der.length)
    throw new SpiffeError('SPIFFE_X509_MALFORMED', 'trailing bytes after certificate');
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw new SpiffeError('SPIFFE_X509_MALFORMED', 'unparsable certificate', { cause: err });
  }
}

/**
 * Parses concatenated DER certificates, the form X509-SVID chains and bundles take in the SPIFFE Workload
 * API (`X509SVID.x509_svid`, `x509_bundle`).
 *
 * @throws {SpiffeError} `SPIFFE_X509_EMPTY_CHAIN` when `der` is empty, `SPIFFE_X509_MALFORMED` when it is
 * not a sequence of whole DER certificates.
 */
export function parseDerCertificates(der: Uint8Array): Certificate[] {
  if (der.length === 0) throw new SpiffeError('SPIFFE_X509_EMPTY_CHAIN');
  const certs: Certificate[] = [];
  for (let offset = 0; offset < der.length;) {
    const end = offset + derLength(der, offset);
    if (end > der.length) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'truncated certificate');
    certs.push(parseDerCertificate(der.subarray(offset, end)));
    offset = end;
  }
  return certs;
}

/**
 * Parses a certificate chain given as PEM text (RFC 7468 `CERTIFICATE` blocks, leaf first) or as
 * concatenated DER bytes. Other PEM blocks (keys, parameters) and text between blocks are ignored, as
 * OpenSSL ignores them; everything else must parse.
 *
 * @throws {SpiffeError} `SPIFFE_X509_EMPTY_CHAIN` when the input holds no certificate,
 * `SPIFFE_X509_MALFORMED` on anything that is neither.
 */
export function parseCertificates(input: string | Uint8Array): Certificate[] {
  if (typeof input !== 'string') {
    if (!looksLikePem(input)) return parseDerCertificates(input);
    input = Buffer.from(input).toString('utf8');
  }
  const certs: Certificate[] = [];
  let blocks = 0;
  for (const match of input.matchAll(PEM_BLOCK)) {
    blocks++;
    const [, begin, body = '', end] = match;
    if (begin !== end) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'mismatched pem labels');
    if (begin !== CERTIFICATE_LABEL) continue;
    const base64 = body.replace(/\s+/g, '');
    if (!BASE64_BODY.test(base64))
      throw new SpiffeError('SPIFFE_X509_MALFORMED', 'invalid base64 in pem block');
    certs.push(parseDerCertificate(Buffer.from(base64, 'base64')));
  }
  if (blocks === 0 && input.includes('-----BEGIN'))
    throw new SpiffeError('SPIFFE_X509_MALFORMED', 'unterminated pem block');
  if (blocks === 0 && input.trim().length > 0) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'no pem block');
  if (certs.length === 0) throw new SpiffeError('SPIFFE_X509_EMPTY_CHAIN');
  return certs;
}

/** Encodes certificates as PEM `CERTIFICATE` blocks (RFC 7468 §5), in order, 64 characters per line. */
export function encodeCertificatesPem(certs: readonly Certificate[]): string {
  return certs.map((cert) => encodePem(CERTIFICATE_LABEL, new Uint8Array(cert.rawData))).join('');
}

/** Encodes concatenated DER, the Workload API form of a chain (the inverse of {@link parseDerCertificates}). */
export function encodeCertificatesDer(certs: readonly Certificate[]): Uint8Array {
  return Buffer.concat(certs.map((cert) => new Uint8Array(cert.rawData)));
}

/** Encodes `der` as one PEM block with `label` (RFC 7468 §2). */
export function encodePem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN') || (bytes.length > 0 && bytes[0] !== 0x30);
}

/**
 * The total length (header + content) of the DER SEQUENCE starting at `offset` (X.690 §8.1.3, definite
 * form only: DER forbids the indefinite form).
 */
function derLength(der: Uint8Array, offset: number): number {
  if (der[offset] !== 0x30) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'not a der sequence');
  const first = der[offset + 1];
  if (first === undefined) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'truncated certificate');
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'unsupported der length');
  let length = 0;
  for (let i = 0; i < count; i++) {
    const byte = der[offset + 2 + i];
    if (byte === undefined) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'truncated certificate');
    length = length * 256 + byte;
  }
  return 2 + count + length;
}
