/**
 * The error catalog of the `spiffe/` library: every rejection carries one stable `code` from this table.
 *
 * Codes take the form `SPIFFE_<AREA>_<REASON>` and never change once released; messages are lower case,
 * have no trailing period and never contain tokens, keys or other secrets. Callers (the broker, the CLI,
 * tests) branch on `code`, never on `message`.
 */
export const SPIFFE_ERROR_CODES = {
  // SPIFFE-ID spec §2 (identity), §2.1 (trust domain), §2.2 (path), §2.3 (length).
  SPIFFE_ID_EMPTY: 'spiffe id is empty',
  SPIFFE_ID_WRONG_SCHEME: 'scheme is missing or is not "spiffe"',
  SPIFFE_ID_MISSING_TRUST_DOMAIN: 'trust domain is missing',
  SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR:
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes and underscores',
  SPIFFE_ID_TRUST_DOMAIN_TOO_LONG: 'trust domain is longer than 255 characters',
  SPIFFE_ID_HAS_PORT: 'trust domain must not include a port',
  SPIFFE_ID_HAS_USERINFO: 'trust domain must not include user info',
  SPIFFE_ID_HAS_QUERY: 'spiffe id must not include a query',
  SPIFFE_ID_HAS_FRAGMENT: 'spiffe id must not include a fragment',
  SPIFFE_ID_BAD_PATH_CHAR:
    'path segment characters are limited to letters, numbers, dots, dashes and underscores',
  SPIFFE_ID_PERCENT_ENCODED: 'path must not contain percent-encoded characters',
  SPIFFE_ID_EMPTY_SEGMENT: 'path must not contain empty segments',
  SPIFFE_ID_DOT_SEGMENT: 'path must not contain dot segments',
  SPIFFE_ID_TRAILING_SLASH: 'path must not have a trailing slash',
  SPIFFE_ID_NO_LEADING_SLASH: 'path must have a leading slash',
  SPIFFE_ID_TOO_LONG: 'spiffe id is longer than 2048 bytes',

  // Authorization matchers.
  SPIFFE_MATCH_UNEXPECTED_ID: 'spiffe id is not the expected one',
  SPIFFE_MATCH_NOT_MEMBER: 'spiffe id is not a member of the expected trust domain',
  SPIFFE_MATCH_PATH_MISMATCH: 'spiffe id path does not match the pattern',
  SPIFFE_MATCH_BAD_PATTERN: 'matcher pattern is invalid',

  // SPIFFE Trust Domain and Bundle spec §4 (bundle format), §5 (bundle endpoints).
  SPIFFE_BUNDLE_MALFORMED: 'bundle is malformed',
  SPIFFE_BUNDLE_BAD_KEY: 'bundle contains an invalid key entry',
  SPIFFE_BUNDLE_NOT_FOUND: 'no bundle for the trust domain',
  SPIFFE_BUNDLE_TRUST_DOMAIN_MISMATCH: 'bundle belongs to another trust domain',
  SPIFFE_BUNDLE_FETCH_FAILED: 'bundle endpoint could not be fetched',
  SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED: 'bundle endpoint did not authenticate as expected',
  SPIFFE_BUNDLE_STALE_SEQUENCE: 'bundle sequence number is older than the current bundle',
  SPIFFE_BUNDLE_BAD_ENDPOINT: 'bundle endpoint configuration is invalid',

  // X509-SVID spec §4 (constraints and usage), §5 (validation); RFC 5280 §6 path validation.
  SPIFFE_X509_MALFORMED: 'certificate chain is malformed',
  SPIFFE_X509_EMPTY_CHAIN: 'certificate chain is empty',
  SPIFFE_X509_NO_URI_SAN: 'leaf certificate has no uri san',
  SPIFFE_X509_MULTIPLE_URI_SANS: 'leaf certificate has more than one uri san',
  SPIFFE_X509_BAD_SPIFFE_ID: 'leaf certificate uri san is not a valid spiffe id',
  SPIFFE_X509_LEAF_IS_CA: 'leaf certificate must not be a ca',
  SPIFFE_X509_LEAF_KEY_CERT_SIGN: 'leaf certificate must not have keyCertSign key usage',
  SPIFFE_X509_LEAF_CRL_SIGN: 'leaf certificate must not have cRLSign key usage',
  SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE: 'leaf certificate must have digitalSignature key usage',
  SPIFFE_X509_SIGNER_NOT_CA: 'signing certificate is not a ca',
  SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN: 'signing certificate lacks keyCertSign key usage',
  SPIFFE_X509_EXPIRED: 'certificate has expired',
  SPIFFE_X509_NOT_YET_VALID: 'certificate is not yet valid',
  SPIFFE_X509_UNTRUSTED: 'certificate chain does not lead to a trusted authority of the trust domain',

  // JWT-SVID spec §2 (JOSE header), §3 (claims), §4 (validation).
  SPIFFE_JWT_MALFORMED: 'token is not a well-formed jws compact serialization',
  SPIFFE_JWT_ALG_NOT_ALLOWED: 'token algorithm is not allowed',
  SPIFFE_JWT_BAD_TYP: 'token typ header must be JWT or JOSE',
  SPIFFE_JWT_MISSING_KID: 'token header has no kid',
  SPIFFE_JWT_UNKNOWN_KID: 'no authority with this kid in the bundle of the subject trust domain',
  SPIFFE_JWT_BAD_SIGNATURE: 'token signature does not verify',
  SPIFFE_JWT_MISSING_SUB: 'token has no sub claim',
  SPIFFE_JWT_BAD_SUB: 'token sub claim is not a valid spiffe id',
  SPIFFE_JWT_MISSING_AUD: 'token has no aud claim',
  SPIFFE_JWT_AUDIENCE_MISMATCH: 'token audience does not match',
  SPIFFE_JWT_MISSING_EXP: 'token has no exp claim',
  SPIFFE_JWT_EXPIRED: 'token has expired',
  SPIFFE_JWT_NOT_YET_VALID: 'token is not yet valid',

  // Development CA.
  SPIFFE_CA_FOREIGN_TRUST_DOMAIN: 'the ca does not issue for this trust domain',
  SPIFFE_CA_BAD_TTL: 'ttl must be a positive duration',
  SPIFFE_CA_BAD_KEY_TYPE: 'unsupported key type',
  SPIFFE_CA_KEY_STORE: 'ca key store is unreadable or corrupt',

  // SPIFFE Workload API spec.
  SPIFFE_WORKLOAD_MISSING_HEADER: 'security header workload.spiffe.io is missing',
  SPIFFE_WORKLOAD_NO_IDENTITY: 'no identity issued',
  SPIFFE_WORKLOAD_UNAVAILABLE: 'workload api is unavailable',
  SPIFFE_WORKLOAD_BAD_RESPONSE: 'workload api returned an invalid response',
  SPIFFE_WORKLOAD_BAD_ARGUMENT: 'workload api request is invalid',
  SPIFFE_WORKLOAD_BAD_REGISTRATION: 'workload registration entry is invalid',
} as const;

/** A stable error code of the `spiffe/` library. */
export type SpiffeErrorCode = keyof typeof SPIFFE_ERROR_CODES;

/**
 * The one error class of the `spiffe/` library.
 *
 * `code` is stable; `message` is the catalog text optionally followed by `: detail`; `cause` keeps the
 * foreign error (jose, pkijs, grpc) that was translated, if any.
 */
export class SpiffeError extends Error {
  override readonly name = 'SpiffeError';
  readonly code: SpiffeErrorCode;

  constructor(code: SpiffeErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = SPIFFE_ERROR_CODES[code];
    super(detail ? `${base}: ${detail}` : base, options);
    this.code = code;
  }
}

/** True when `err` is a {@link SpiffeError}, optionally with the given code. */
export function isSpiffeError(err: unknown, code?: SpiffeErrorCode): err is SpiffeError {
  return err instanceof SpiffeError && (code === undefined || err.code === code);
}
