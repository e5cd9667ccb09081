import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, type JWK } from 'jose';
import { SpiffeBundle } from '../bundle.js';
import { marshalBundle } from '../bundle-json.js';
import { isSpiffeError, SpiffeError } from '../errors.js';
import { encodeCertificatesDer, parseDerCertificates } from '../pem.js';
import { SpiffeId } from '../spiffe-id.js';
import type { JwtSvid, X509Svid } from '../svid.js';
import { TrustDomain } from '../trust-domain.js';
import { checkLeafRules } from '../x509-svid.js';
import type { JwtSvidMessage, X509SvidMessage } from './proto.js';

// Conversions between our value types and the Workload API wire messages (spec §5.1, §6.1), both ways.
// Decoding is strict: whatever the peer sends is checked before it becomes a typed value, and every
// failure is `SPIFFE_WORKLOAD_BAD_RESPONSE` with the underlying error as `cause`.

function badResponse(detail: string, cause?: unknown): SpiffeError {
  return new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', detail, { cause });
}

/** Encodes `svid` as an `X509SVID` message with `bundle` (its trust domain's roots, concatenated DER). */
export function encodeX509Svid(svid: X509Svid, bundle: SpiffeBundle): X509SvidMessage {
  return {
    spiffe_id: svid.id.toString(),
    x509_svid: Buffer.from(encodeCertificatesDer(svid.certificates)),
    x509_svid_key: svid.privateKey.export({ format: 'der', type: 'pkcs8' }),
    bundle: Buffer.from(encodeCertificatesDer(bundle.x509Authorities)),
    hint: svid.hint ?? '',
  };
}

/**
 * Decodes an `X509SVID` message. The chain must parse, its leaf must satisfy the X509-SVID leaf rules
 * and name the message's `spiffe_id`, and the key must be the leaf's (as go-spiffe's `ParseRaw` checks).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 */
export function decodeX509Svid(message: X509SvidMessage): X509Svid {
  const id = parseId(message.spiffe_id);
  let certificates;
  let privateKey: KeyObject;
  try {
    certificates = parseDerCertificates(message.x509_svid);
    privateKey = createPrivateKey({ key: message.x509_svid_key, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw badResponse('unparsable x509 svid or key', err);
  }
  const leaf = certificates[0];
  if (!leaf) throw badResponse('empty x509 svid');
  const leafId = wrap(() => checkLeafRules(leaf), 'x509 svid leaf breaks the spiffe rules');
  if (!leafId.equals(id)) throw badResponse('x509 svid leaf names another spiffe id');
  if (!wrap(() => keyMatchesLeaf(privateKey, leaf.publicKey.rawData), 'unreadable x509 svid key')) {
    throw badResponse('x509 svid key does not match the leaf');
  }
  const svid = { id, certificates: Object.freeze(certificates), privateKey, expiresAt: leaf.notAfter };
  return Object.freeze(message.hint ? { ...svid, hint: message.hint } : svid);
}

/** Compares as JWKs rather than SPKI bytes, which may differ in encoding details for the same key. */
function keyMatchesLeaf(privateKey: KeyObject, leafSpki: ArrayBuffer): boolean {
  const derived = createPublicKey(privateKey).export({ format: 'jwk' });
  const leaf = createPublicKey({ key: Buffer.from(leafSpki), format: 'der', type: 'spki' }).export({
    format: 'jwk',
  });
  return JSON.stringify(derived) === JSON.stringify(leaf);
}

/** Encodes X.509 bundles as the `map<string, bytes>` of the spec: trust domain SPIFFE ID → roots DER. */
export function encodeX509Bundles(bundles: readonly SpiffeBundle[]): Record<string, Buffer> {
  return Object.fromEntries(
    bundles.map((b) => [b.trustDomain.idString, Buffer.from(encodeCertificatesDer(b.x509Authorities))]),
  );
}

/**
 * Decodes a `map<string, bytes>` of X.509 bundles into bundles holding X.509 authorities only.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 */
export function decodeX509Bundles(map: Record<string, Buffer>): SpiffeBundle[] {
  return Object.entries(map).map(([key, der]) => {
    const trustDomain = parseTrustDomain(key);
    const x509Authorities = wrap(
      () => parseDerCertificates(der),
      `unparsable x509 bundle of ${trustDomain.name}`,
    );
    return new SpiffeBundle({ trustDomain, x509Authorities });
  });
}

/**
 * Encodes the JWT authorities of each bundle as a JWK Set (RFC 7517 §5), keyed by trust domain SPIFFE
 * ID (`JWTBundlesResponse`, spec §6.2.2). The document is written by `marshalBundle`, so every key has
 * its `kid`, `use: "jwt-svid"` and public members only, and it is a SPIFFE bundle too; the spec forbids
 * keys of other uses here, so X.509 roots are left out.
 */
export function encodeJwtBundles(bundles: readonly SpiffeBundle[]): Record<string, Buffer> {
  return Object.fromEntries(
    bundles.map((b) => {
      const jwtOnly = new SpiffeBundle({ trustDomain: b.trustDomain, jwtAuthorities: b.jwtAuthorities });
      return [b.trustDomain.idString, Buffer.from(marshalBundle(jwtOnly))];
    }),
  );
}

/**
 * Decodes JWK Set documents keyed by trust domain into bundles holding JWT authorities only. Keys must
 * have a `kid` (JWT-SVID spec §4 selects keys by it); keys that declare another `use` are skipped.
 * Not `parseBundle`: a SPIFFE bundle ignores keys without `use`, but SPIRE's agent (via go-spiffe's
 * `jwtbundle.Marshal`) sends plain JWK Sets whose keys have no `use` at all. Private key members are
 * rejected: a bundle only ever holds public keys.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 */
export function decodeJwtBundles(map: Record<string, Buffer>): SpiffeBundle[] {
  return Object.entries(map).map(([key, json]) => {
    const trustDomain = parseTrustDomain(key);
    const jwtAuthorities = wrap(
      () => parseJwks(json.toString('utf8')),
      `invalid jwt bundle of ${trustDomain.name}`,
    );
    return new SpiffeBundle({ trustDomain, jwtAuthorities });
  });
}

/** JWK members that only private or symmetric keys have (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

function parseJwks(text: string): Map<string, JWK> {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new Error('no keys array');
  const out = new Map<string, JWK>();
  for (const raw of doc.keys as unknown[]) {
    const jwk = raw as JWK & { use?: string };
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string')
      throw new Error('key without kty');
    if (jwk.use !== undefined && jwk.use !== 'jwt-svid' && jwk.use !== 'sig') continue;
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new Error('key without kid');
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new Error('private or symmetric key in a bundle');
    out.set(jwk.kid, Object.freeze({ ...jwk }));
  }
  return out;
}

/** Encodes `svid` as a `JWTSVID` message. */
export function encodeJwtSvid(svid: JwtSvid): JwtSvidMessage {
  return { spiffe_id: svid.id.toString(), svid: svid.token, hint: svid.hint ?? '' };
}

/**
 * Decodes a `JWTSVID` message. The token comes from the trusted local agent, so, like go-spiffe's
 * `ParseInsecure`, its signature is not checked here; its `sub` must equal `spiffe_id` and it must carry
 * `aud` and `exp`.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 */
export function decodeJwtSvid(message: JwtSvidMessage): JwtSvid {
  const id = parseId(message.spiffe_id);
  const claims = wrap(() => decodeJwt(message.svid), 'unparsable jwt svid');
  if (claims.sub !== id.toString()) throw badResponse('jwt svid subject is not its spiffe id');
  const audience = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!audience || audience.length === 0 || typeof claims.exp !== 'number')
    throw badResponse('jwt svid lacks aud or exp');
  const svid = {
    id,
    token: message.svid,
    audience: Object.freeze([...audience]),
    expiresAt: new Date(claims.exp * 1000),
  };
  return Object.freeze(message.hint ? { ...svid, hint: message.hint } : svid);
}

function parseId(value: string): SpiffeId {
  return wrap(() => SpiffeId.parse(value), 'invalid spiffe id');
}

/** Bundle map keys are trust domain SPIFFE IDs (`spiffe://td`); bare names are accepted too. */
function parseTrustDomain(key: string): TrustDomain {
  return wrap(() => TrustDomain.parse(key), 'invalid trust domain key');
}

function wrap<T>(fn: () => T, detail: string): T {
  try {
    return fn();
  } catch (err) {
    if (isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_RESPONSE')) throw err;
    throw badResponse(detail, err);
  }
}
