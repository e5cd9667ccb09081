import { toErrorPayload } from '../../error-payload.js';
import { BROKER_ERROR_CODES, type BrokerErrorCode } from '../../errors.js';
import type { SpiffeErrorCode } from '../../../spiffe/errors.js';

const BAD_INPUT = 400;
const AUTH = 401;
const FORBIDDEN = 403;

/**
 * The HTTP status of every `spiffe/` code. The library knows nothing of HTTP, so the broker's table
 * lives here; the `Record` type makes a new SPIFFE code a compile error until it gets a status.
 * A bad SVID is 401 (RFC 9110 §15.5.2); a bad SPIFFE ID in input is 400; an authorization matcher's
 * refusal is 403; bundle, CA and Workload API trouble on our side is 5xx.
 */
export const SPIFFE_HTTP_STATUS: Readonly<Record<SpiffeErrorCode, number>> = Object.freeze({
  // A SPIFFE ID in request input (a filter) that does not parse.
  SPIFFE_ID_EMPTY: BAD_INPUT,
  SPIFFE_ID_WRONG_SCHEME: BAD_INPUT,
  SPIFFE_ID_MISSING_TRUST_DOMAIN: BAD_INPUT,
  SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR: BAD_INPUT,
  SPIFFE_ID_TRUST_DOMAIN_TOO_LONG: BAD_INPUT,
  SPIFFE_ID_HAS_PORT: BAD_INPUT,
  SPIFFE_ID_HAS_USERINFO: BAD_INPUT,
  SPIFFE_ID_HAS_QUERY: BAD_INPUT,
  SPIFFE_ID_HAS_FRAGMENT: BAD_INPUT,
  SPIFFE_ID_BAD_PATH_CHAR: BAD_INPUT,
  SPIFFE_ID_PERCENT_ENCODED: BAD_INPUT,
  SPIFFE_ID_EMPTY_SEGMENT: BAD_INPUT,
  SPIFFE_ID_DOT_SEGMENT: BAD_INPUT,
  SPIFFE_ID_TRAILING_SLASH: BAD_INPUT,
  SPIFFE_ID_NO_LEADING_SLASH: BAD_INPUT,
  SPIFFE_ID_TOO_LONG: BAD_INPUT,
  // An authorization matcher refused the caller.
  SPIFFE_MATCH_UNEXPECTED_ID: FORBIDDEN,
  SPIFFE_MATCH_NOT_MEMBER: FORBIDDEN,
  SPIFFE_MATCH_PATH_MISMATCH: FORBIDDEN,
  SPIFFE_MATCH_BAD_PATTERN: 500,
  // Bundles are ours to configure (5xx), except a caller from a trust domain we have no bundle for.
  SPIFFE_BUNDLE_MALFORMED: 500,
  SPIFFE_BUNDLE_BAD_KEY: 500,
  SPIFFE_BUNDLE_NOT_FOUND: AUTH,
  SPIFFE_BUNDLE_TRUST_DOMAIN_MISMATCH: 500,
  SPIFFE_BUNDLE_FETCH_FAILED: 503,
  SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED: 503,
  SPIFFE_BUNDLE_STALE_SEQUENCE: 503,
  SPIFFE_BUNDLE_BAD_ENDPOINT: 500,
  // A bad X509-SVID or JWT-SVID: the caller is not authenticated.
  SPIFFE_X509_MALFORMED: AUTH,
  SPIFFE_X509_EMPTY_CHAIN: AUTH,
  SPIFFE_X509_NO_URI_SAN: AUTH,
  SPIFFE_X509_MULTIPLE_URI_SANS: AUTH,
  SPIFFE_X509_BAD_SPIFFE_ID: AUTH,
  SPIFFE_X509_LEAF_IS_CA: AUTH,
  SPIFFE_X509_LEAF_KEY_CERT_SIGN: AUTH,
  SPIFFE_X509_LEAF_CRL_SIGN: AUTH,
  SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE: AUTH,
  SPIFFE_X509_SIGNER_NOT_CA: AUTH,
  SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN: AUTH,
  SPIFFE_X509_EXPIRED: AUTH,
  SPIFFE_X509_NOT_YET_VALID: AUTH,
  SPIFFE_X509_UNTRUSTED: AUTH,
  SPIFFE_JWT_MALFORMED: AUTH,
  SPIFFE_JWT_ALG_NOT_ALLOWED: AUTH,
  SPIFFE_JWT_BAD_TYP: AUTH,
  SPIFFE_JWT_MISSING_KID: AUTH,
  SPIFFE_JWT_UNKNOWN_KID: AUTH,
  SPIFFE_JWT_BAD_SIGNATURE: AUTH,
  SPIFFE_JWT_MISSING_SUB: AUTH,
  SPIFFE_JWT_BAD_SUB: AUTH,
  SPIFFE_JWT_MISSING_AUD: AUTH,
  SPIFFE_JWT_AUDIENCE_MISMATCH: AUTH,
  SPIFFE_JWT_MISSING_EXP: AUTH,
  SPIFFE_JWT_EXPIRED: AUTH,
  SPIFFE_JWT_NOT_YET_VALID: AUTH,
  // The development CA and the Workload API are ours.
  SPIFFE_CA_FOREIGN_TRUST_DOMAIN: 500,
  SPIFFE_CA_BAD_TTL: 500,
  SPIFFE_CA_BAD_KEY_TYPE: 500,
  SPIFFE_CA_KEY_STORE: 500,
  SPIFFE_WORKLOAD_MISSING_HEADER: 500,
  SPIFFE_WORKLOAD_NO_IDENTITY: 503,
  SPIFFE_WORKLOAD_UNAVAILABLE: 503,
  SPIFFE_WORKLOAD_BAD_RESPONSE: 502,
  SPIFFE_WORKLOAD_BAD_ARGUMENT: 500,
  SPIFFE_WORKLOAD_BAD_REGISTRATION: 500,
} satisfies Record<SpiffeErrorCode, number>);

/** A refusal as the HTTP layer answers it. */
export interface HttpErrorView {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

function isBrokerCode(code: string): code is BrokerErrorCode {
  return Object.hasOwn(BROKER_ERROR_CODES, code);
}

/**
 * THE status table: the HTTP status of any catalog code (broker, including HTTP transport refusals, and SPIFFE); 500 for
 * anything unknown.
 */
export function httpStatusOf(code: string): number {
  if (isBrokerCode(code)) return BROKER_ERROR_CODES[code].http;
  return (SPIFFE_HTTP_STATUS as Readonly<Record<string, number>>)[code] ?? 500;
}

/** The catalog message of a code, without any detail. */
function baseMessage(code: string): string {
  if (isBrokerCode(code)) return BROKER_ERROR_CODES[code].message;
  return BROKER_ERROR_CODES.BROKER_INTERNAL.message;
}

/**
 * Maps any thrown value to its status, code and message (one table, no `instanceof` ladder: the
 * code comes from {@link toErrorPayload}, which the CLI shares). A 5xx answer carries only the
 * catalog message: details of internal failures stay in the log (SPIRE's rule, RFC 9110 §15.6).
 */
export function describeError(err: unknown): HttpErrorView {
  const { code, message } = toErrorPayload(err).payload.error;
  const status = httpStatusOf(code);
  return { status, code, message: status >= 500 ? baseMessage(code) : message };
}
