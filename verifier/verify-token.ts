import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { BrokerError, type BrokerErrorCode } from '../broker/errors.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';

/** A task token that passed {@link verifyTaskTokenClaims}. */
export interface VerifiedTaskToken {
  readonly issuer: string;
  /** `sub`: the workload the task belongs to. */
  readonly subject: SpiffeId;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly issuedAt: Date;
  readonly jti: string;
  /** `scope` split on spaces (RFC 8693 §4.2). */
  readonly scopes: readonly string[];
  readonly taskId: string;
  readonly claims: JWTPayload;
}

/** What a token is checked against. */
export interface TokenChecks {
  readonly keys: JWTVerifyGetKey;
  /** Accepted algorithms: from configuration, never from the token. */
  readonly algorithms: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly now: Date;
}

const CLAIM_CODES: Readonly<Record<string, BrokerErrorCode>> = {
  aud: 'BROKER_TOKEN_WRONG_AUDIENCE',
  iss: 'BROKER_TOKEN_WRONG_ISSUER',
  nbf: 'BROKER_TOKEN_NOT_YET_VALID',
  exp: 'BROKER_TOKEN_EXPIRED',
};

const JOSE_CODES: Readonly<Record<string, BrokerErrorCode>> = {
  ERR_JWT_EXPIRED: 'BROKER_TOKEN_EXPIRED',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'BROKER_TOKEN_BAD_SIGNATURE',
  ERR_JOSE_ALG_NOT_ALLOWED: 'BROKER_TOKEN_ALG_NOT_ALLOWED',
  ERR_JWKS_NO_MATCHING_KEY: 'BROKER_TOKEN_UNKNOWN_KID',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'BROKER_TOKEN_UNKNOWN_KID',
  ERR_JWS_INVALID: 'BROKER_TOKEN_MALFORMED',
  ERR_JWT_INVALID: 'BROKER_TOKEN_MALFORMED',
  ERR_JOSE_NOT_SUPPORTED: 'BROKER_TOKEN_ALG_NOT_ALLOWED',
  ERR_JWKS_TIMEOUT: 'BROKER_VERIFIER_KEYS_UNAVAILABLE',
  ERR_JWKS_INVALID: 'BROKER_VERIFIER_KEYS_UNAVAILABLE',
};

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies a broker task token (an RFC 9068 JWT access token) with jose's `jwtVerify`: the signature
 * with a key of the broker's JWKS (selected by `kid` and `alg`), `alg` among the pinned algorithms
 * (so `none` and HMAC key confusion never pass), `typ` `at+jwt` (RFC 9068 §4), `iss`, `aud`, `exp`,
 * `nbf` at `checks.now` (no leeway), `iat` not in the future, then `sub` a SPIFFE ID and `jti`,
 * `scope`, `task_id` strings. Revocation is the caller's next step.
 *
 * @throws {BrokerError} `BROKER_TOKEN_*` naming what failed; `BROKER_VERIFIER_KEYS_UNAVAILABLE`
 *   when the JWKS cannot be fetched (not the token's fault: answer 503, not 401).
 */
export async function verifyTaskTokenClaims(token: string, checks: TokenChecks): Promise<VerifiedTaskToken> {
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) {
    throw new BrokerError('BROKER_TOKEN_MALFORMED', 'not a compact jws');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, checks.keys, {
      algorithms: [...checks.algorithms],
      issuer: checks.issuer,
      audience: checks.audience,
      currentDate: checks.now,
      typ: 'at+jwt',
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
    }));
  } catch (err) {
    throw translate(err);
  }
  if (payload.iat! > Math.floor(checks.now.getTime() / 1000)) {
    throw new BrokerError('BROKER_TOKEN_NOT_YET_VALID', 'issued in the future');
  }
  return toVerified(payload);
}

function toVerified(payload: JWTPayload): VerifiedTaskToken {
  let subject: SpiffeId;
  try {
    subject = SpiffeId.parse(String(payload.sub));
  } catch {
    throw new BrokerError('BROKER_TOKEN_MALFORMED', 'sub is not a spiffe id');
  }
  const { scope, task_id: taskId, jti } = payload;
  if (typeof scope !== 'string' || typeof taskId !== 'string' || typeof jti !== 'string' || jti === '') {
    throw new BrokerError('BROKER_TOKEN_MALFORMED', 'scope, task_id and jti must be strings');
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
    claims: payload,
  });
}

/** jose's errors by their stable `code`, `claim` and `reason` (never the message). */
function translate(err: unknown): BrokerError {
  const { code, claim, reason } = (err ?? {}) as { code?: string; claim?: string; reason?: string };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const ours = CLAIM_CODES[claim ?? ''];
    if (ours === undefined || reason === 'missing' || reason === 'invalid') {
      return new BrokerError(
        'BROKER_TOKEN_MALFORMED',
        `claim ${claim ?? 'unknown'} is ${reason ?? 'invalid'}`,
      );
    }
    return new BrokerError(ours, `claim ${claim} check failed`);
  }
  const ours = code === undefined ? undefined : JOSE_CODES[code];
  if (ours !== undefined) return new BrokerError(ours, undefined, { cause: err });
  // A fetch failure of the JWKS surfaces as a plain error without a jose code.
  return new BrokerError('BROKER_VERIFIER_KEYS_UNAVAILABLE', undefined, { cause: err });
}
