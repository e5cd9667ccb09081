import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type ProtectedHeaderParameters,
} from 'jose';
import type { BundleSource, SpiffeBundle } from '../../spiffe/bundle.js';
import { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithm } from '../../spiffe/jwt-svid.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError, type BrokerErrorCode } from '../errors.js';
import { parseSubjectIdentifier } from './set-subject.js';
import type { SignalSubject } from './signal.js';

/** The media type of a SET (RFC 8417 §7.2), the `Content-Type` of RFC 8935 push delivery. */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';
/** Largest SET accepted: events are small; a larger one is refused before any parsing. */
export const MAX_SET_BYTES = 16 * 1024;
/** Longest `jti` accepted. */
export const MAX_JTI = 256;
/** How far in the future an `iat` may be (the detector's clock may run ahead of ours). */
export const SET_CLOCK_SKEW_SECONDS = 60;

/** What {@link verifySet} checks against. */
export interface VerifySetOptions {
  /** The trust bundles (the same source that authenticates callers). */
  readonly bundles: BundleSource;
  /** The SPIFFE ID that authenticated the HTTP request: the SET's `iss` must be it. */
  readonly caller: SpiffeId;
  /** The broker's audience: `aud` must contain it. */
  readonly audience: string;
  readonly now: Date;
  /** `iat` older than this is refused. */
  readonly maxAgeSeconds: number;
  /** Narrows the algorithms (default: the JWT-SVID list). */
  readonly algorithms?: readonly JwtSvidAlgorithm[];
}

/** A SET that passed {@link verifySet}. */
export interface VerifiedSet {
  readonly issuer: SpiffeId;
  readonly jti: string;
  readonly issuedAt: Date;
  /** The `events` claim: event type URI → its JSON object (RFC 8417 §2.2). */
  readonly events: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The `sub_id` claim read as a task or a workload. */
  readonly subject: SignalSubject;
  /** RFC 8417 §2.2 `toe` (time of event), when given. */
  readonly toe?: Date;
  /** RFC 8417 §2.2 `txn`, when given. */
  readonly txn?: string;
  /** The time after which the SET's `jti` need no longer be remembered. */
  readonly rememberUntil: Date;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const CURVE_OF: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'x', 'y'],
  RSA: ['n', 'e'],
};

function fail(code: BrokerErrorCode, detail: string, cause?: unknown): BrokerError {
  return new BrokerError(code, detail, cause === undefined ? undefined : { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 8417 §2.3: `typ` is `secevent+jwt` (RFC 7515 §4.1.9 lets the `application/` prefix be omitted). */
function isSetTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === 'secevent+jwt' || t === SET_MEDIA_TYPE;
}

function checkHeader(token: string, algorithms: readonly string[]): { alg: string; kid: string } {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw fail('BROKER_SET_MALFORMED', 'undecodable header', err);
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw fail('BROKER_SET_INVALID_KEY', 'alg is not an allowed signature algorithm');
  }
  if (typeof kid !== 'string' || kid === '') throw fail('BROKER_SET_INVALID_KEY', 'kid is required');
  if (!isSetTyp(typ)) throw fail('BROKER_SET_MALFORMED', 'typ must be secevent+jwt');
  return { alg, kid };
}

/** The `iss` claim, read before the signature check only to choose the bundle that then proves it. */
function issuerOf(token: string, caller: SpiffeId): SpiffeId {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch (err) {
    throw fail('BROKER_SET_MALFORMED', 'undecodable claims', err);
  }
  let issuer: SpiffeId;
  try {
    issuer = SpiffeId.parse(String(claims.iss ?? ''));
  } catch (err) {
    throw fail('BROKER_SET_INVALID_ISSUER', 'iss must be a spiffe id', err);
  }
  if (!issuer.equals(caller)) throw fail('BROKER_SET_INVALID_ISSUER', 'iss must be the authenticated caller');
  return issuer;
}

async function verificationKey(jwk: JWK, alg: string) {
  const family = alg.startsWith('ES') ? 'EC' : 'RSA';
  if (
    jwk.kty !== family ||
    (family === 'EC' && jwk.crv !== CURVE_OF[alg]) ||
    (jwk.alg !== undefined && jwk.alg !== alg)
  ) {
    throw fail('BROKER_SET_INVALID_KEY', 'the authority key cannot make signatures of this alg');
  }
  const members = Object.fromEntries((PUBLIC_MEMBERS[family] ?? []).map((m) => [m, jwk[m as keyof JWK]]));
  try {
    return await importJWK({ kty: family, ...members }, alg);
  } catch (err) {
    throw fail('BROKER_SET_INVALID_KEY', 'the authority key cannot be imported', err);
  }
}

async function verifiedPayload(
  token: string,
  issuer: SpiffeId,
  kid: string,
  alg: string,
  bundles: BundleSource,
) {
  let bundle: SpiffeBundle;
  try {
    bundle = bundles.getBundleForTrustDomain(issuer.trustDomain);
  } catch (err) {
    throw fail('BROKER_SET_INVALID_KEY', "no bundle for the issuer's trust domain", err);
  }
  const jwk = bundle.findJwtAuthority(kid);
  if (jwk === undefined)
    throw fail('BROKER_SET_INVALID_KEY', "kid is not a jwt authority of the issuer's trust domain");
  const key = await verificationKey(jwk, alg);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
      throw fail('BROKER_SET_INVALID_KEY', 'bad signature', err);
    throw fail('BROKER_SET_MALFORMED', 'not a valid jws', err);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw fail('BROKER_SET_MALFORMED', 'claims are not json', err);
  }
  if (!isPlainObject(claims)) throw fail('BROKER_SET_MALFORMED', 'claims must be a json object');
  return claims;
}

const numericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** RFC 7519 `aud` (a string or an array of strings) must contain the broker's audience. */
function checkAudience(aud: unknown, audience: string): void {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!list.every((a) => typeof a === 'string') || !list.includes(audience)) {
    throw fail('BROKER_SET_INVALID_AUDIENCE', 'aud must contain the broker audience');
  }
}

/** `iat` required, within `maxAgeSeconds` and not ahead of us by more than the skew; `exp`/`nbf` honoured. */
function checkTimes(claims: Record<string, unknown>, opts: VerifySetOptions): Date {
  const { iat, exp, nbf } = claims;
  if (!numericDate(iat)) throw fail('BROKER_SET_MALFORMED', 'iat is required');
  const nowS = opts.now.getTime() / 1000;
  if (iat > nowS + SET_CLOCK_SKEW_SECONDS || iat < nowS - opts.maxAgeSeconds) {
    throw fail('BROKER_SET_STALE', 'iat is outside the acceptance window');
  }
  if (exp !== undefined && (!numericDate(exp) || exp <= nowS))
    throw fail('BROKER_SET_STALE', 'exp has passed');
  if (nbf !== undefined && (!numericDate(nbf) || nbf > nowS + SET_CLOCK_SKEW_SECONDS)) {
    throw fail('BROKER_SET_STALE', 'nbf is in the future');
  }
  return new Date(iat * 1000);
}

function checkEvents(events: unknown): Record<string, Record<string, unknown>> {
  if (!isPlainObject(events) || Object.keys(events).length === 0) {
    throw fail('BROKER_SET_MALFORMED', 'events must be a non-empty json object');
  }
  for (const value of Object.values(events)) {
    if (!isPlainObject(value)) throw fail('BROKER_SET_MALFORMED', 'each event must be a json object');
  }
  return events as Record<string, Record<string, unknown>>;
}

/**
 * Verifies a Security Event Token (RFC 8417) pushed by a detector (RFC 8935), the way JWT-SVIDs are
 * verified: a compact JWS (an encrypted SET is not accepted), `alg` pinned to the JWT-SVID list (never
 * `none` or HMAC), `kid` required, `typ` `secevent+jwt` (RFC 8417 §2.3: SETs are signed by the keys
 * that sign JWT-SVIDs, so they must never be confusable); `iss` a SPIFFE ID equal to the authenticated
 * caller; the key is the JWT authority with that `kid` in the bundle of the ISSUER's trust domain
 * only; then `aud` contains the broker's audience, `iat` is present and recent, `exp`/`nbf` when
 * present hold, `jti` is 1..256 characters, `events` is an object of objects (RFC 8417 §2.2), and
 * `sub_id` names a task or a workload ({@link parseSubjectIdentifier}).
 *
 * @throws {BrokerError} `BROKER_SET_TOO_LARGE`, `BROKER_SET_MALFORMED`, `BROKER_SET_INVALID_KEY`,
 *   `BROKER_SET_INVALID_ISSUER`, `BROKER_SET_INVALID_AUDIENCE`, `BROKER_SET_STALE`, `BROKER_SET_BAD_SUBJECT`.
 */
export async function verifySet(token: string, opts: VerifySetOptions): Promise<VerifiedSet> {
  if (typeof token !== 'string') throw fail('BROKER_SET_MALFORMED', 'a set is a compact jws');
  const text = token.trim();
  if (Buffer.byteLength(text, 'utf8') > MAX_SET_BYTES)
    throw fail('BROKER_SET_TOO_LARGE', `over ${MAX_SET_BYTES} bytes`);
  if (!COMPACT_JWS.test(text)) throw fail('BROKER_SET_MALFORMED', 'a set is a signed compact jws');
  const spec: readonly string[] = JWT_SVID_ALGORITHMS;
  const algorithms =
    opts.algorithms === undefined ? [...spec] : opts.algorithms.filter((a) => spec.includes(a));
  const { alg, kid } = checkHeader(text, algorithms);
  const issuer = issuerOf(text, opts.caller);
  const claims = await verifiedPayload(text, issuer, kid, alg, opts.bundles);
  checkAudience(claims['aud'], opts.audience);
  const issuedAt = checkTimes(claims, opts);
  const jti = claims['jti'];
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) {
    throw fail('BROKER_SET_MALFORMED', `jti must have 1..${MAX_JTI} characters`);
  }
  const events = checkEvents(claims['events']);
  const subject = parseSubjectIdentifier(claims['sub_id']);
  const { toe, txn } = claims;
  const skewMs = SET_CLOCK_SKEW_SECONDS * 1000;
  return Object.freeze({
    issuer,
    jti,
    issuedAt,
    events,
    subject,
    ...(numericDate(toe) && { toe: new Date(toe * 1000) }),
    ...(typeof txn === 'string' && txn.length <= MAX_JTI && { txn }),
    // Past this, the iat check alone refuses a replay, so the jti need not be remembered.
    rememberUntil: new Date(issuedAt.getTime() + opts.maxAgeSeconds * 1000 + skewMs),
  });
}
