import { decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { BrokerErrorCode } from '../../broker/errors.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TASK_TOKEN_ALGORITHMS, type TaskTokenAlgorithm } from './config.js';
import type { TaskTokenJwks } from './signing-keys.js';

/** RFC 9068 §2.1: the `typ` of a JWT access token. */
export const TASK_TOKEN_TYPE = 'at+jwt';

/** Options of {@link verifyTaskToken}. */
export interface VerifyTaskTokenOptions {
  /** The keyring's JWKS at `now` ({@link TaskTokenKeyring.jwks}): a dropped key verifies nothing. */
  readonly jwks: TaskTokenJwks;
  /** Accepted algorithms, pinned by configuration and never read from the token; intersected with ES256/RS256/PS256. */
  readonly algorithms: readonly TaskTokenAlgorithm[];
  /** The audience(s) the checker identifies with: the token's `aud` must contain one. */
  readonly audience: string | readonly string[];
  /** The expected `iss`, when the checker knows it. */
  readonly issuer?: string;
  /** The time at which the token must be valid (`exp` after it, `nbf` and `iat` not after it), no leeway. */
  readonly now: Date;
}

/** A task token that passed {@link verifyTaskToken}. */
export interface VerifiedTaskToken {
  readonly issuer: string;
  /** `sub`: the workload's SPIFFE ID. */
  readonly subject: SpiffeId;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly issuedAt: Date;
  readonly jti: string;
  /** `scope`, split on spaces (RFC 8693 §4.2). */
  readonly scopes: readonly string[];
  readonly taskId: string;
  readonly kid: string;
  readonly claims: JWTPayload;
}

/** The codes a task token is rejected with. */
export type TaskTokenRejectionCode = Extract<BrokerErrorCode, `BROKER_TOKEN_${string}`>;

/** The outcome of {@link verifyTaskToken}: the verified token, or the code and a reason (never the token). */
export type TaskTokenVerification =
  | { readonly ok: true; readonly token: VerifiedTaskToken }
  | { readonly ok: false; readonly code: TaskTokenRejectionCode; readonly reason: string };

/** A JWS Compact Serialization's shape (RFC 7515 §7.1): three base64url parts. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** The claims every task token must carry (besides `scope` and `task_id`, checked by type). */
export const TASK_TOKEN_REQUIRED_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'jti',
]);

/** A task token refused, with its code and a short reason (never the token). */
export class TaskTokenRejection extends Error {
  constructor(
    readonly code: TaskTokenRejectionCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * Verifies a broker task token (RFC 9068 JWT access token) against the keyring's JWKS, for
 * introspection and resource servers. In order: compact JWS; `typ` is `at+jwt` (RFC 9068 §4); `alg` in
 * the pinned list (so `none` and HS256 never pass); `kid` names a key of the JWKS bound to that `alg`;
 * the signature; `iss`, `aud`, `exp`, `nbf`, `iat` at `now`; `sub` a SPIFFE ID, `jti`, `scope` and
 * `task_id` strings. Revocation is not checked here: the broker's state answers that.
 *
 * Never throws: a rejection is returned as a `BROKER_TOKEN_*` code and a short reason.
 */
export async function verifyTaskToken(
  token: string,
  opts: VerifyTaskTokenOptions,
): Promise<TaskTokenVerification> {
  try {
    return { ok: true, token: await verifyOrThrow(token, opts) };
  } catch (err) {
    if (err instanceof TaskTokenRejection) return { ok: false, code: err.code, reason: err.reason };
    return {
      ok: false,
      ...(translateJoseError(err) ?? {
        code: 'BROKER_TOKEN_BAD_SIGNATURE',
        reason: 'signature cannot be checked',
      }),
    };
  }
}

async function verifyOrThrow(token: string, opts: VerifyTaskTokenOptions): Promise<VerifiedTaskToken> {
  const algorithms = opts.algorithms.filter((alg) => TASK_TOKEN_ALGORITHMS.includes(alg));
  const { alg, kid } = checkHeader(token, algorithms);
  const jwk = opts.jwks.keys.find((k) => k.kid === kid);
  if (jwk === undefined)
    throw new TaskTokenRejection('BROKER_TOKEN_UNKNOWN_KID', 'no published key has this kid');
  if (jwk.alg !== alg)
    throw new TaskTokenRejection('BROKER_TOKEN_BAD_SIGNATURE', 'key is bound to another algorithm');
  const { kty, crv, x, y, n, e } = jwk;
  const key = await importJWK((kty === 'EC' ? { kty, crv, x, y } : { kty, n, e }) as JWK, alg);
  const { payload } = await jwtVerify(token, key, {
    algorithms,
    audience: typeof opts.audience === 'string' ? opts.audience : [...opts.audience],
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
    currentDate: opts.now,
    requiredClaims: [...TASK_TOKEN_REQUIRED_CLAIMS],
    typ: TASK_TOKEN_TYPE,
  });
  return taskTokenFromPayload(payload, kid, opts.now);
}

function checkHeader(token: string, algorithms: readonly string[]): { alg: TaskTokenAlgorithm; kid: string } {
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) {
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'not a compact jws');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'undecodable header');
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new TaskTokenRejection(
      'BROKER_TOKEN_ALG_NOT_ALLOWED',
      `alg ${JSON.stringify(alg ?? null)} is not allowed`,
    );
  }
  // RFC 9068 §4: the `typ` must be checked, so that other JWTs of the same issuer cannot pass as access tokens.
  if (typeof typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(typ)) {
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'typ is not at+jwt');
  }
  if (typeof kid !== 'string' || kid.length === 0)
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'kid is missing');
  return { alg: alg as TaskTokenAlgorithm, kid };
}

/**
 * The task token of a payload whose signature and registered claims jose has checked: `iat` not
 * after `now`, `sub` a SPIFFE ID, `jti`, `scope` and `task_id` strings. Shared by introspection and
 * the resource servers' verifier (`verifier/`), so both read a token the same way.
 *
 * @throws {TaskTokenRejection} `BROKER_TOKEN_NOT_YET_VALID`, `BROKER_TOKEN_MALFORMED`.
 */
export function taskTokenFromPayload(payload: JWTPayload, kid: string, now: Date): VerifiedTaskToken {
  if (payload.iat! > Math.floor(now.getTime() / 1000)) {
    throw new TaskTokenRejection('BROKER_TOKEN_NOT_YET_VALID', 'issued in the future');
  }
  let subject: SpiffeId;
  try {
    subject = SpiffeId.parse(String(payload.sub));
  } catch {
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'sub is not a spiffe id');
  }
  const { scope, task_id: taskId, jti } = payload;
  if (typeof scope !== 'string' || typeof taskId !== 'string' || typeof jti !== 'string' || jti === '') {
    throw new TaskTokenRejection('BROKER_TOKEN_MALFORMED', 'scope, task_id and jti must be strings');
  }
  return Object.freeze({
    issuer: payload.iss!,
    subject,
    audience: Object.freeze(typeof payload.aud === 'string' ? [payload.aud] : [...(payload.aud ?? [])]),
    expiresAt: new Date(payload.exp! * 1000),
    issuedAt: new Date(payload.iat! * 1000),
    jti,
    scopes: Object.freeze(scope === '' ? [] : scope.split(' ')),
    taskId,
    kid,
    claims: payload,
  });
}

const CLAIM_CODES: Readonly<Record<string, TaskTokenRejectionCode>> = {
  aud: 'BROKER_TOKEN_WRONG_AUDIENCE',
  iss: 'BROKER_TOKEN_WRONG_ISSUER',
  nbf: 'BROKER_TOKEN_NOT_YET_VALID',
  exp: 'BROKER_TOKEN_EXPIRED',
};

/**
 * Maps a jose verification error by its stable `code`, `claim` and `reason` (never its message) to
 * ours; undefined for a jose code that says nothing about the token (each caller decides).
 */
export function translateJoseError(
  err: unknown,
): { code: TaskTokenRejectionCode; reason: string } | undefined {
  const { code, claim, reason } = (err ?? {}) as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return { code: 'BROKER_TOKEN_EXPIRED', reason: 'exp has passed' };
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return { code: 'BROKER_TOKEN_BAD_SIGNATURE', reason: 'signature does not verify' };
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return { code: 'BROKER_TOKEN_ALG_NOT_ALLOWED', reason: 'alg is not allowed' };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const ours = CLAIM_CODES[claim ?? ''];
      if (ours === undefined || reason === 'missing' || reason === 'invalid') {
        return {
          code: 'BROKER_TOKEN_MALFORMED',
          reason: `claim ${claim ?? 'unknown'} is ${reason ?? 'invalid'}`,
        };
      }
      return { code: ours, reason: `claim ${claim} check failed` };
    }
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return { code: 'BROKER_TOKEN_MALFORMED', reason: 'token or key is invalid' };
    default:
      return undefined;
  }
}
