import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import {
  COMPACT_JWS,
  TASK_TOKEN_REQUIRED_CLAIMS,
  TASK_TOKEN_TYPE,
  TaskTokenRejection,
  taskTokenFromPayload,
  translateJoseError,
  type VerifiedTaskToken,
} from '../adapters/jwt/verify-task-token.js';
import { BrokerError, type BrokerErrorCode } from '../broker/errors.js';

export type { VerifiedTaskToken } from '../adapters/jwt/verify-task-token.js';

/** What a token is checked against. */
export interface TokenChecks {
  readonly keys: JWTVerifyGetKey;
  /** Accepted algorithms: from configuration, never from the token. */
  readonly algorithms: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly now: Date;
}

/**
 * jose codes of the remote key set and the verifier's own readings; every other jose error is
 * read as the broker's introspection reads it (`translateJoseError`).
 */
const KEY_SET_CODES: Readonly<Record<string, BrokerErrorCode>> = {
  ERR_JWKS_NO_MATCHING_KEY: 'BROKER_TOKEN_UNKNOWN_KID',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'BROKER_TOKEN_UNKNOWN_KID',
  ERR_JOSE_NOT_SUPPORTED: 'BROKER_TOKEN_ALG_NOT_ALLOWED',
  ERR_JWKS_TIMEOUT: 'BROKER_VERIFIER_KEYS_UNAVAILABLE',
  ERR_JWKS_INVALID: 'BROKER_VERIFIER_KEYS_UNAVAILABLE',
};

/**
 * Verifies a broker task token (an RFC 9068 JWT access token) with jose's `jwtVerify`: the signature
 * with a key of the broker's JWKS (selected by `kid` and `alg`), `alg` among the pinned algorithms
 * (so `none` and HMAC key confusion never pass), `typ` `at+jwt` (RFC 9068 §4), `iss`, `aud`, `exp`,
 * `nbf` at `checks.now` (no leeway), then the task-token claims exactly as the broker's
 * introspection reads them (`taskTokenFromPayload`). Revocation is the caller's next step.
 *
 * @throws {BrokerError} `BROKER_TOKEN_*` naming what failed; `BROKER_VERIFIER_KEYS_UNAVAILABLE`
 *   when the JWKS cannot be fetched (not the token's fault: answer 503, not 401).
 */
export async function verifyTaskTokenClaims(token: string, checks: TokenChecks): Promise<VerifiedTaskToken> {
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) {
    throw new BrokerError('BROKER_TOKEN_MALFORMED', 'not a compact jws');
  }
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(token, checks.keys, {
      algorithms: [...checks.algorithms],
      issuer: checks.issuer,
      audience: checks.audience,
      currentDate: checks.now,
      typ: TASK_TOKEN_TYPE,
      requiredClaims: [...TASK_TOKEN_REQUIRED_CLAIMS],
    });
  } catch (err) {
    throw translate(err);
  }
  try {
    return taskTokenFromPayload(verified.payload, verified.protectedHeader.kid ?? '', checks.now);
  } catch (err) {
    if (err instanceof TaskTokenRejection) throw new BrokerError(err.code, err.reason);
    throw err;
  }
}

/** jose's errors by their stable `code`, `claim` and `reason` (never the message). */
function translate(err: unknown): BrokerError {
  const code = (err as { code?: string } | null)?.code;
  const keySet = code === undefined ? undefined : KEY_SET_CODES[code];
  if (keySet !== undefined) return new BrokerError(keySet, undefined, { cause: err });
  const token = code === undefined ? undefined : translateJoseError(err);
  if (token !== undefined) return new BrokerError(token.code, token.reason, { cause: err });
  // A fetch failure of the JWKS surfaces as a plain error without a jose code.
  return new BrokerError('BROKER_VERIFIER_KEYS_UNAVAILABLE', undefined, { cause: err });
}
