import { BrokerError, type BrokerErrorCode } from '../../broker/errors.js';

/** Throttling codes of the AWS query APIs (STS, IAM) and the SDK's retry classifier. */
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/** The broker's own AWS identity is refused, or the token it presented is. */
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  // The SDK found no credentials for the broker at all (keys mode without keys).
  'CredentialsProviderError',
]);

/** The request itself cannot be expressed: too large, malformed, or outside a role's limits. */
const BAD_REQUEST = new Set([
  'PackedPolicyTooLarge',
  'PackedPolicyTooLargeException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'ValidationError',
]);

/** AWS could not answer now (including AWS failing to reach the broker's JWKS for a web identity token). */
const UNAVAILABLE = new Set([
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

/** Node socket errors: the endpoint is down, unreachable or hung up. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/** The AWS error code of an SDK error (`name`, as the SDK sets it from the response's `Code`). */
export function awsErrorCode(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  return typeof e.name === 'string' ? e.name : 'Error';
}

function classify(err: unknown): BrokerErrorCode {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const name = awsErrorCode(err);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (THROTTLED.has(name) || status === 429) return 'BROKER_ADAPTER_BACKEND_THROTTLED';
  if (DENIED.has(name)) return 'BROKER_ADAPTER_BACKEND_DENIED';
  if (BAD_REQUEST.has(name)) return 'BROKER_ADAPTER_BAD_REQUEST';
  if (UNAVAILABLE.has(name) || (typeof e.code === 'string' && NETWORK.has(e.code)) || NETWORK.has(name)) {
    return 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
  }
  if (e.$fault === 'server' || (status !== undefined && status >= 500))
    return 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
  // No HTTP answer at all: the request never completed (connection failure, abort, deadline).
  if (status === undefined) return 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
  return 'BROKER_ADAPTER_BACKEND_REJECTED';
}

/**
 * Translates an AWS SDK error from `operation` (`sts:AssumeRole`, `iam:PutRolePolicy`) into the
 * broker's catalog where it enters (EXAMPLES.md "Errors"): throttling → `BACKEND_THROTTLED`; refused
 * broker identity or token → `BACKEND_DENIED`; a policy, tag set or duration STS cannot take →
 * `BAD_REQUEST`; no answer, timeouts, 5xx → `BACKEND_UNAVAILABLE`; anything else (RegionDisabled,
 * NoSuchEntity, LimitExceeded…) → `BACKEND_REJECTED`. The detail names the operation and AWS's error
 * code only: AWS messages are not copied, so nothing from a request can leak into logs or the ledger.
 * A {@link BrokerError} passes through unchanged.
 */
export function translateAwsError(err: unknown, operation: string): BrokerError {
  if (err instanceof BrokerError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const code = typeof e.code === 'string' && NETWORK.has(e.code) ? e.code : awsErrorCode(err);
  const detail = `${operation}: ${code}${typeof status === 'number' ? ` (http ${status})` : ''}`;
  return new BrokerError(classify(err), detail, { cause: err });
}
