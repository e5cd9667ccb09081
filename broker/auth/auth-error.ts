import { BrokerError } from '../errors.js';
import { isSpiffeError, type SpiffeErrorCode } from '../../spiffe/errors.js';

/**
 * Why authentication failed, for logs and tests. Callers see only the code: `BROKER_AUTH_MISSING` for
 * `missing`, `BROKER_AUTH_INVALID` for everything else (an attacker learns nothing from the split).
 */
export type AuthFailureReason =
  'missing' | 'malformed_header' | 'invalid' | 'expired' | 'replayed' | 'replay_capacity';

/**
 * An authentication refusal (ISSUE 3, Authentication): `BROKER_AUTH_MISSING` or `BROKER_AUTH_INVALID`,
 * with the typed `reason` and, when the SPIFFE verifier refused, its code in `spiffeCode` and the
 * `SpiffeError` as `cause` (DESIGN invariant 5: a clear, coded error).
 */
export class AuthError extends BrokerError {
  readonly reason: AuthFailureReason;
  readonly spiffeCode: SpiffeErrorCode | undefined;

  constructor(reason: AuthFailureReason, options?: { cause?: unknown }) {
    super(reason === 'missing' ? 'BROKER_AUTH_MISSING' : 'BROKER_AUTH_INVALID', undefined, options);
    this.reason = reason;
    this.spiffeCode = isSpiffeError(options?.cause) ? options.cause.code : undefined;
  }
}

const EXPIRED: ReadonlySet<string> = new Set(['SPIFFE_JWT_EXPIRED', 'SPIFFE_X509_EXPIRED']);

/**
 * Translates what an SVID verifier threw into an {@link AuthError}: a `SpiffeError` becomes
 * `BROKER_AUTH_INVALID` (reason `expired` for an expired SVID); anything else is not a verdict on the
 * caller and is rethrown as `BROKER_INTERNAL`.
 */
export function translateVerifyError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (isSpiffeError(err)) return new AuthError(EXPIRED.has(err.code) ? 'expired' : 'invalid', { cause: err });
  return new BrokerError('BROKER_INTERNAL', 'svid verification failed', { cause: err });
}
