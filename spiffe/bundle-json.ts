import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { SpiffeBundle, type Certificate } from './bundle.js';
import { SpiffeError } from './errors.js';
import { x509 } from './internal/x509.js';
import type { TrustDomain } from './trust-domain.js';

/** `use` of a JWK that authenticates X509-SVIDs (X509-SVID spec §6, Trust Domain and Bundle §4.2.2). */
export const X509_SVID_USE = 'x509-svid';
/** `use` of a JWK that authenticates JWT-SVIDs (JWT-SVID spec §6, Trust Domain and Bundle §4.2.2). */
export const JWT_SVID_USE = 'jwt-svid';

/** Key types this library understands; §4.2.1 says to ignore any other. */
const KNOWN_KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);
/** Public key members copied from a JWK; nothing else of an entry is kept or written. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;
/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037; AKP). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes bytes as UTF-8, rejecting invalid sequences (a BOM is dropped). */
export function decodeUtf8(data: string | Uint8Array): string {
  if (typeof data === 'string') return data;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (err) {
    throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'not utf-8', { cause: err });
  }
}

function optionalCount(doc: JsonObject, member: string): number | undefined {
  const value = doc[member];
  if (value === undefined) return undefined;
  // JSON numbers past 2^53 lose precision in JavaScript; refuse them rather than compare wrong values.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', `${member} must be a non-negative integer`);
  }
  return value;
}

function publicMembers(entry: JsonObject): JWK {
  const jwk: JsonObject = {};
  for (const member of PUBLIC_MEMBERS) if (entry[member] !== undefined) jwk[member] = entry[member];
  return jwk as JWK;
}

function importPublicKey(jwk: JWK, index: number): KeyObject {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} is not a valid public key`, { cause: err });
  }
}

function parseCertificate(der: Uint8Array, where: string): Certificate {
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `${where} is not a valid certificate`, { cause: err });
  }
}

/**
 * An `x509-svid` entry (X509-SVID spec §6): exactly one certificate in `x5c`, whose public key is the
 * one the JWK's own members describe (RFC 7517 §4.7).
 */
function parseX509Entry(entry: JsonObject, index: number): Certificate {
  const x5c = entry['x5c'];
  if (!Array.isArray(x5c) || x5c.length !== 1) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} must have exactly one certificate in x5c`);
  }
  const [encoded] = x5c as unknown[];
  if (typeof encoded !== 'string' || !BASE64.test(encoded)) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} x5c is not base64`);
  }
  const cert = parseCertificate(Buffer.from(encoded, 'base64'), `key ${index} x5c`);
  const certKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  if (!importPublicKey(publicMembers(entry), index).equals(certKey)) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} does not match its certificate`);
  }
  return cert;
}

/** A `jwt-svid` entry (JWT-SVID spec §6): a public key with a non-empty `kid`. */
function parseJwtEntry(entry: JsonObject, index: number): [string, JWK] {
  const kid = entry['kid'];
  if (typeof kid !== 'string' || kid === '') {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} has no kid`);
  }
  const jwk = publicMembers(entry);
  importPublicKey(jwk, index);
  return [kid, { ...jwk, kid }];
}

/**
 * Parses a SPIFFE bundle (Trust Domain and Bundle spec §4): a JWK Set with `keys`, and optional
 * `spiffe_sequence` (§4.1.1) and `spiffe_refresh_hint` in seconds (§4.1.2). The trust domain is not
 * in the document (§3): the caller supplies it from configuration.
 *
 * Per §4.1.3 and §4.2, an entry with an unknown or missing `use` or an unknown `kty` is ignored.
 * Stricter than the spec asks, and on purpose: any entry carrying private or symmetric key material
 * rejects the whole document, because a publisher leaking keys must not be trusted silently; a
 * `jwt-svid` entry without `kid` or with a `kid` seen before is rejected, since the verifier could
 * not tell which key is meant. Identical X.509 authorities are kept once.
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_MALFORMED` when the document is not a JWK Set (bad UTF-8 or
 * JSON, not an object, `keys` missing or not an array, a sequence or hint that is not a non-negative
 * integer); `SPIFFE_BUNDLE_BAD_KEY` for an entry that is invalid as described above.
 */
export function parseBundle(trustDomain: TrustDomain, json: string | Uint8Array): SpiffeBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(decodeUtf8(json));
  } catch (err) {
    if (err instanceof SpiffeError) throw err;
    throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'not json', { cause: err });
  }
  if (!isObject(doc)) throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'not a json object');
  const keys = doc['keys'];
  if (!Array.isArray(keys)) throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'keys must be an array');
  const sequenceNumber = optionalCount(doc, 'spiffe_sequence');
  const refreshHintSeconds = optionalCount(doc, 'spiffe_refresh_hint');
  const x509Authorities: Certificate[] = [];
  const jwtAuthorities = new Map<string, JWK>();
  keys.forEach((entry: unknown, index) => {
    if (!isObject(entry)) throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} is not an object`);
    if (PRIVATE_MEMBERS.some((member) => member in entry)) {
      throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} contains private key material`);
    }
    const use = entry['use'];
    if (use !== X509_SVID_USE && use !== JWT_SVID_USE) return;
    if (typeof entry['kty'] !== 'string')
      throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} has no kty`);
    if (!KNOWN_KEY_TYPES.has(entry['kty'])) return;
    if (use === X509_SVID_USE) {
      const cert = parseX509Entry(entry, index);
      if (!x509Authorities.some((known) => known.equal(cert))) x509Authorities.push(cert);
      return;
    }
    const [kid, jwk] = parseJwtEntry(entry, index);
    if (jwtAuthorities.has(kid)) throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', `key ${index} repeats a kid`);
    jwtAuthorities.set(kid, jwk);
  });
  return new SpiffeBundle({
    trustDomain,
    x509Authorities,
    jwtAuthorities,
    sequenceNumber,
    refreshHintSeconds,
  });
}

function x509Entry(cert: Certificate): JsonObject {
  let jwk: JsonWebKey;
  try {
    jwk = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
  } catch (err) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', 'x509 authority key cannot be expressed as a jwk', {
      cause: err,
    });
  }
  const der = Buffer.from(cert.rawData).toString('base64');
  return { use: X509_SVID_USE, ...publicMembers(jwk as JsonObject), x5c: [der] };
}

/**
 * Serialises `bundle` in the SPIFFE bundle format (Trust Domain and Bundle spec §4, Appendix A): X.509
 * authorities as `x509-svid` entries with their certificate in `x5c`, then JWT authorities as `jwt-svid`
 * entries with `kid`. Only public key members are written, whatever the authority objects hold. The
 * trust domain is not part of the document and must be conveyed separately (§3).
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_BAD_KEY` when an X.509 authority's key has no JWK form.
 */
export function marshalBundle(bundle: SpiffeBundle): string {
  const keys = bundle.x509Authorities.map(x509Entry);
  for (const [kid, jwk] of bundle.jwtAuthorities) {
    keys.push({ use: JWT_SVID_USE, ...publicMembers(jwk as JsonObject), kid });
  }
  return JSON.stringify({
    spiffe_sequence: bundle.sequenceNumber,
    spiffe_refresh_hint: bundle.refreshHintSeconds,
    keys,
  });
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;

/**
 * Parses PEM `CERTIFICATE` blocks as an X.509-only bundle of `trustDomain` (go-spiffe's
 * `x509bundle.Parse`): the form SPIRE's `bundle show -format pem` and most operators use for roots.
 * Text between blocks is ignored.
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_MALFORMED` when there is no PEM block, a block is cut short,
 * has headers, is not a certificate or is not base64; `SPIFFE_BUNDLE_BAD_KEY` for any private key
 * block or a certificate that does not parse.
 */
export function parseBundleFromPem(trustDomain: TrustDomain, pem: string | Uint8Array): SpiffeBundle {
  const text = decodeUtf8(pem);
  // Look for key markers in the raw text too: a key block with headers (`Proc-Type:`) or one cut short
  // would not match PEM_BLOCK, and must not pass unnoticed beside valid certificates.
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', 'pem contains a private key');
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length !== text.split('-----BEGIN ').length - 1) {
    throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'pem block is not terminated or has headers');
  }
  const x509Authorities: Certificate[] = [];
  for (const [, label = '', body = ''] of blocks) {
    if (label !== 'CERTIFICATE')
      throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', `unexpected pem block ${label}`);
    const base64 = body.replace(/\s+/g, '');
    if (!BASE64.test(base64)) throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'pem block is not base64');
    const cert = parseCertificate(Buffer.from(base64, 'base64'), `pem certificate ${x509Authorities.length}`);
    if (!x509Authorities.some((known) => known.equal(cert))) x509Authorities.push(cert);
  }
  if (x509Authorities.length === 0) throw new SpiffeError('SPIFFE_BUNDLE_MALFORMED', 'no pem certificate');
  return new SpiffeBundle({ trustDomain, x509Authorities });
}

/**
 * Parses either form an operator may hand over: a SPIFFE bundle (JSON, first non-blank character `{`)
 * or PEM roots.
 *
 * @throws {SpiffeError} as {@link parseBundle} or {@link parseBundleFromPem}.
 */
export function parseBundleDocument(trustDomain: TrustDomain, data: string | Uint8Array): SpiffeBundle {
  const text = decodeUtf8(data);
  return text.trimStart().startsWith('{')
    ? parseBundle(trustDomain, text)
    : parseBundleFromPem(trustDomain, text);
}
