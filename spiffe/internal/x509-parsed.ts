// The pkijs form of a certificate and the facts the SPIFFE rules read from it, parsed once.
//
// pkijs's ASN.1 schema matching costs far more than the signature checks of a whole path, so parsed forms
// are cached twice: per certificate object (WeakMap), and by DER content in a bounded table hung off the
// trust source (a peer presents the same intermediates, and usually the same leaf, connection after
// connection, each time as new objects).
import { createPublicKey, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { SpiffeError } from '../errors.js';
import type { Certificate } from '../bundle.js';

/** What the SPIFFE rules need from a certificate's extensions (RFC 5280 §4.2.1). */
export interface CertFacts {
  /** uniformResourceIdentifier entries of subjectAltName, in order. */
  readonly uris: readonly string[];
  /** basicConstraints cA; false when the extension is absent. */
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  /** keyUsage bits as x509.KeyUsageFlags (bit n of the BIT STRING is 1 << n); undefined when absent. */
  readonly keyUsage: number | undefined;
  /** Subject and issuer names are equal (RFC 5280 §6.1: does not count towards path length). */
  readonly selfIssued: boolean;
}

/** A certificate decoded for path validation. Shared between every object with the same DER. */
export interface ParsedCert {
  readonly pki: pkijs.Certificate;
  readonly der: Buffer;
  readonly facts: CertFacts;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A DER-keyed table of parsed certificates, bounded; least recently used entries go first. */
export type ParseCache = Map<string, ParsedCert>;

const PARSE_CACHE_SIZE = 512;
const SAN = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const URI_NAME = 6;

const byObject = new WeakMap<Certificate, ParsedCert>();
const bySource = new WeakMap<object, ParseCache>();

/** The DER-keyed cache that lives as long as `owner` (a trust source). */
export function parseCacheOf(owner: object): ParseCache {
  let cache = bySource.get(owner);
  if (cache === undefined) bySource.set(owner, (cache = new Map()));
  return cache;
}

/**
 * `cert` decoded by pkijs with its SPIFFE-relevant facts, from the caches when possible.
 *
 * @throws {SpiffeError} `SPIFFE_X509_MALFORMED` when pkijs cannot decode the certificate or one of the
 * extensions the rules read.
 */
export function parsedOf(cert: Certificate, cache?: ParseCache): ParsedCert {
  const known = byObject.get(cert);
  if (known !== undefined) return known;
  const der = Buffer.from(cert.rawData);
  const key = cache === undefined ? undefined : der.toString('base64');
  let parsed = key === undefined ? undefined : cache?.get(key);
  if (parsed === undefined) {
    parsed = parse(der);
  } else {
    cache?.delete(key as string); // refresh its place in the LRU order
  }
  if (cache !== undefined && key !== undefined) {
    cache.set(key, parsed);
    if (cache.size > PARSE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  }
  byObject.set(cert, parsed);
  return parsed;
}

function parse(der: Buffer): ParsedCert {
  let pki: pkijs.Certificate;
  try {
    pki = pkijs.Certificate.fromBER(der);
  } catch (err) {
    throw new SpiffeError('SPIFFE_X509_MALFORMED', 'certificate not decodable', { cause: err });
  }
  return {
    pki,
    der,
    facts: factsOf(pki),
    notBefore: pki.notBefore.value,
    notAfter: pki.notAfter.value,
  };
}

const publicKeys = new WeakMap<ParsedCert, KeyObject | null>();

/** The subject public key of `cert` for node:crypto, loaded once; null when node:crypto cannot load it. */
export function publicKeyOf(cert: ParsedCert): KeyObject | null {
  let key = publicKeys.get(cert);
  if (key === undefined) {
    try {
      const spki = Buffer.from(cert.pki.subjectPublicKeyInfo.toSchema().toBER());
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch {
      key = null; // a key node:crypto cannot load verifies nothing
    }
    publicKeys.set(cert, key);
  }
  return key;
}

function extensionValue<T>(pki: pkijs.Certificate, id: string): T | undefined {
  const matches = (pki.extensions ?? []).filter((ext) => ext.extnID === id);
  // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
  if (matches.length > 1) throw new SpiffeError('SPIFFE_X509_MALFORMED', `duplicate extension ${id}`);
  const [ext] = matches;
  if (ext === undefined) return undefined;
  const value = ext.parsedValue as (T & { parsingError?: string }) | undefined;
  if (value === undefined || value.parsingError !== undefined) {
    throw new SpiffeError('SPIFFE_X509_MALFORMED', `undecodable extension ${id}`);
  }
  return value;
}

function factsOf(pki: pkijs.Certificate): CertFacts {
  const san = extensionValue<pkijs.AltName>(pki, SAN);
  const constraints = extensionValue<pkijs.BasicConstraints>(pki, BASIC_CONSTRAINTS);
  const usage = extensionValue<{ valueBlock: { valueHexView: Uint8Array } }>(pki, KEY_USAGE);
  const pathLength = constraints?.pathLenConstraint;
  return {
    uris: (san?.altNames ?? []).filter((name) => name.type === URI_NAME).map((name) => String(name.value)),
    isCa: constraints?.cA === true,
    // A pathLenConstraint too large for a number constrains nothing in practice.
    pathLength: typeof pathLength === 'number' ? pathLength : undefined,
    keyUsage: usage === undefined ? undefined : keyUsageFlags(usage.valueBlock.valueHexView),
    selfIssued: pki.subject.isEqual(pki.issuer),
  };
}

/** KeyUsage BIT STRING (RFC 5280 §4.2.1.3) to flags: named bit n (MSB first) becomes 1 << n. */
function keyUsageFlags(bits: Uint8Array): number {
  let flags = 0;
  for (let n = 0; n < 9; n++) {
    const byte = bits[n >> 3] ?? 0;
    if (byte & (0x80 >> (n & 7))) flags |= 1 << n;
  }
  return flags;
}
