import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTHeaderParameters,
} from 'jose';
import type { JWTPayload } from 'jose';
import { SpiffeError, isSpiffeError, type SpiffeErrorCode } from './errors.js';
import { SpiffeId } from './spiffe-id.js';
import type { BundleSource } from './bundle.js';

/**
 * The `alg` values a JWT-SVID may carry (JWT-SVID spec §2.1: RFC 7518 §3.3–§3.5). `none`, the HMAC
 * family and EdDSA are not in the list and are always rejected.
 */
export const JWT_SVID_ALGORITHMS = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const);

/** One of {@link JWT_SVID_ALGORITHMS}. */
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number];

/** Options of {@link verifyJwtSvid}. */
export interface VerifyJwtSvidOptions {
  /** The time at which the token must be valid (`exp` after it, `nbf` not after it), no leeway. */
  readonly now: Date;
  /** The audience(s) this validator identifies with: at least one must be in the token's `aud`. */
  readonly audience: string | readonly string[];
  /** Narrows the accepted algorithms; values outside {@link JWT_SVID_ALGORITHMS} are ignored. */
  readonly algorithms?: readonly JwtSvidAlgorithm[];
}

/** A JWT-SVID that passed {@link verifyJwtSvid}. */
export interface VerifiedJwtSvid {
  /** The SPIFFE ID of the `sub` claim (JWT-SVID §3.1). */
  readonly id: SpiffeId;
  /** The token's `aud`, always as a list. */
  readonly audience: string[];
  readonly expiresAt: Date;
  readonly issuedAt?: Date;
  /** Every claim of the verified payload. */
  readonly claims: JWTPayload;
  readonly header: JWTHeaderParameters;
}

// The public members of each key type (RFC 7518 §6): bundle entries are imported through these only,
// so a stray private member (`d`) or `use`/`key_ops` never changes what jose builds.
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'x', 'y'],
  RSA: ['n', 'e'],
};
const CURVE_OF: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;
const importedKeys = new WeakMap<JWK, Map<string, Promise<VerifyKey>>>();

/**
 * Verifies a JWT-SVID (JWT-SVID spec §4) with the JWT authorities of its subject's trust domain and
 * returns the verified identity. Imitates go-spiffe's `jwtsvid.ParseAndValidate`, on jose's `jwtVerify`.
 *
 * In order: JWS compact serialization with nothing before or after (§5.1, RFC 7515 §7.1); `alg` in the
 * allow-list (§2.1; the list is pinned in jose too, never taken from the header); `kid` present (§2.2
 * makes it optional, but the authority is found by it, as go-spiffe requires); `typ` absent, `JWT` or
 * `JOSE` (§2.3); `sub` present and a SPIFFE ID (§3.1, read before the signature check only to pick the
 * bundle); the bundle of that ID's trust domain from `source`, and in it the authority with that `kid`
 * (an authority of any other trust domain is never used); the signature; then jose's claim checks:
 * `aud` present and sharing at least one value with `opts.audience` (§3.2; a string or an array of
 * strings, an empty array counts as absent; an empty `opts.audience` accepts no token), `exp` present (§3.3) and after `opts.now`, `nbf` (if any) not
 * after `opts.now`.
 *
 * @throws {SpiffeError} `SPIFFE_JWT_MALFORMED`, `SPIFFE_JWT_ALG_NOT_ALLOWED`, `SPIFFE_JWT_MISSING_KID`,
 * `SPIFFE_JWT_BAD_TYP`, `SPIFFE_JWT_MISSING_SUB`, `SPIFFE_JWT_BAD_SUB`, `SPIFFE_BUNDLE_NOT_FOUND`,
 * `SPIFFE_JWT_UNKNOWN_KID`, `SPIFFE_BUNDLE_BAD_KEY`, `SPIFFE_JWT_BAD_SIGNATURE`, `SPIFFE_JWT_MISSING_AUD`,
 * `SPIFFE_JWT_AUDIENCE_MISMATCH`, `SPIFFE_JWT_MISSING_EXP`, `SPIFFE_JWT_EXPIRED`, `SPIFFE_JWT_NOT_YET_VALID`.
 */
export async function verifyJwtSvid(
  token: string,
  source: BundleSource,
  opts: VerifyJwtSvidOptions,
): Promise<VerifiedJwtSvid> {
  const algorithms = allowedAlgorithms(opts.algorithms);
  const { alg, kid } = checkHeader(token, algorithms);
  const id = subjectOf(token);
  const jwk = source.getBundleForTrustDomain(id.trustDomain).findJwtAuthority(kid);
  if (jwk === undefined) throw new SpiffeError('SPIFFE_JWT_UNKNOWN_KID', `kid ${JSON.stringify(kid)}`);
  const key = await verificationKey(jwk, alg);
  const audience = typeof opts.audience === 'string' ? [opts.audience] : [...opts.audience];
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(token, () => key, {
      algorithms,
      audience,
      currentDate: opts.now,
      requiredClaims: ['exp'],
    });
  } catch (err) {
    throw translateJoseError(err);
  }
  const { payload, protectedHeader } = verified;
  if (typeof payload.aud !== 'string' && !payload.aud?.every((aud) => typeof aud === 'string')) {
    throw new SpiffeError('SPIFFE_JWT_MALFORMED', 'aud must be a string or an array of strings');
  }
  return {
    id,
    audience: typeof payload.aud === 'string' ? [payload.aud] : [...(payload.aud ?? [])],
    expiresAt: new Date((payload.exp as number) * 1000),
    ...(typeof payload.iat === 'number' ? { issuedAt: new Date(payload.iat * 1000) } : {}),
    claims: payload,
    header: protectedHeader,
  };
}

function allowedAlgorithms(narrowed: readonly JwtSvidAlgorithm[] | undefined): string[] {
  const spec: readonly string[] = JWT_SVID_ALGORITHMS;
  // Intersect rather than trust the caller's list: a cast must not smuggle in HS256 or none.
  return narrowed === undefined ? [...spec] : narrowed.filter((alg) => spec.includes(alg));
}

/** JWT-SVID §2 and §5.1 on the unverified header. */
function checkHeader(token: string, algorithms: readonly string[]): { alg: string; kid: string } {
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) throw new SpiffeError('SPIFFE_JWT_MALFORMED');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw new SpiffeError('SPIFFE_JWT_MALFORMED', 'undecodable header', { cause: err });
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new SpiffeError('SPIFFE_JWT_ALG_NOT_ALLOWED', typeof alg === 'string' ? alg : undefined);
  }
  if (typeof kid !== 'string' || kid.length === 0) throw new SpiffeError('SPIFFE_JWT_MISSING_KID');
  if (typ !== undefined && typ !== 'JWT' && typ !== 'JOSE') throw new SpiffeError('SPIFFE_JWT_BAD_TYP');
  return { alg, kid };
}

/** JWT-SVID §3.1 on the unverified claims: only used to choose the bundle whose key then proves them. */
function subjectOf(token: string): SpiffeId {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch (err) {
    throw new SpiffeError('SPIFFE_JWT_MALFORMED', 'undecodable claims', { cause: err });
  }
  if (claims.sub === undefined) throw new SpiffeError('SPIFFE_JWT_MISSING_SUB');
  try {
    return SpiffeId.parse(String(claims.sub));
  } catch (err) {
    throw new SpiffeError('SPIFFE_JWT_BAD_SUB', undefined, { cause: err });
  }
}

/**
 * The jose key for `jwk` under `alg`, imported once per JWK object and algorithm.
 *
 * @throws {SpiffeError} `SPIFFE_JWT_BAD_SIGNATURE` when the authority's key cannot make `alg` signatures
 * (the token names an algorithm of another key type), `SPIFFE_BUNDLE_BAD_KEY` when the entry is unusable.
 */
async function verificationKey(jwk: JWK, alg: string): Promise<VerifyKey> {
  const family = alg.startsWith('ES') ? 'EC' : 'RSA';
  if (jwk.kty !== family || (family === 'EC' && jwk.crv !== CURVE_OF[alg])) {
    throw new SpiffeError('SPIFFE_JWT_BAD_SIGNATURE', 'authority key does not match the token algorithm');
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new SpiffeError('SPIFFE_JWT_BAD_SIGNATURE', 'authority key is bound to another algorithm');
  }
  let byAlg = importedKeys.get(jwk);
  if (byAlg === undefined) importedKeys.set(jwk, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (key === undefined) {
    const members = Object.fromEntries((PUBLIC_MEMBERS[family] ?? []).map((m) => [m, jwk[m as keyof JWK]]));
    key = importJWK({ kty: family, ...members }, alg);
    byAlg.set(alg, key);
  }
  try {
    return await key;
  } catch (err) {
    byAlg.delete(alg);
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_KEY', 'jwt authority cannot be imported', { cause: err });
  }
}

const CLAIM_CODES: Readonly<Record<string, { missing: SpiffeErrorCode; failed: SpiffeErrorCode }>> = {
  aud: { missing: 'SPIFFE_JWT_MISSING_AUD', failed: 'SPIFFE_JWT_AUDIENCE_MISMATCH' },
  exp: { missing: 'SPIFFE_JWT_MISSING_EXP', failed: 'SPIFFE_JWT_EXPIRED' },
  nbf: { missing: 'SPIFFE_JWT_MALFORMED', failed: 'SPIFFE_JWT_NOT_YET_VALID' },
};

/** Maps a jose error (by its stable `code`, `claim` and `reason`, never its message) to ours. */
function translateJoseError(err: unknown): SpiffeError {
  if (isSpiffeError(err)) return err;
  const { code, claim, reason, payload } = (err ?? {}) as {
    code?: string;
    claim?: string;
    reason?: string;
    payload?: JWTPayload;
  };
  const wrap = (ours: SpiffeErrorCode): SpiffeError => new SpiffeError(ours, undefined, { cause: err });
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return wrap('SPIFFE_JWT_BAD_SIGNATURE');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return wrap('SPIFFE_JWT_ALG_NOT_ALLOWED');
    case 'ERR_JWT_EXPIRED':
      return wrap('SPIFFE_JWT_EXPIRED');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const codes = CLAIM_CODES[claim ?? ''];
      if (codes === undefined || reason === 'invalid') return wrap('SPIFFE_JWT_MALFORMED');
      // JWT-SVID §3.2: `aud` must contain one or more values, so `[]` is as good as absent.
      const emptyAud = claim === 'aud' && Array.isArray(payload?.aud) && payload.aud.length === 0;
      return wrap(reason === 'missing' || emptyAud ? codes.missing : codes.failed);
    }
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return wrap('SPIFFE_JWT_MALFORMED');
    default:
      // Anything else comes out of the signature step (key type and size checks): not a valid signature.
      return wrap('SPIFFE_JWT_BAD_SIGNATURE');
  }
}
