/**
 * The broker's error catalog: every refusal the broker, its APIs and its CLI give carries one stable
 * code from this table (`BROKER_<AREA>_<REASON>`). Transport statuses come from the same table so
 * the HTTP error handler, the gRPC interceptor and the CLI map errors one way.
 *
 * Messages are lower case, have no trailing period and never contain tokens, keys or secrets.
 */
export const BROKER_ERROR_CODES = {
  BROKER_INPUT_BAD_DURATION: { message: 'duration is malformed', http: 400, exit: 2 },
  BROKER_INPUT_INVALID: { message: 'input is invalid', http: 400, exit: 2 },
  BROKER_STORE_UNAVAILABLE: { message: 'the database is unavailable', http: 503, exit: 1 },
  BROKER_STORE_QUERY_FAILED: { message: 'a database statement failed', http: 500, exit: 1 },
  BROKER_STORE_CONFLICT: { message: 'the record already exists', http: 409, exit: 1 },
  BROKER_STORE_MIGRATION_FAILED: { message: 'database migration failed', http: 500, exit: 1 },
  BROKER_LEDGER_APPEND_ONLY: { message: 'the ledger is append-only', http: 409, exit: 1 },
  BROKER_LEDGER_BAD_CURSOR: { message: 'cursor is malformed', http: 400, exit: 2 },
  BROKER_AUTH_MISSING: { message: 'caller presented no credentials', http: 401, exit: 1 },
  BROKER_AUTH_INVALID: { message: 'caller credentials are invalid', http: 401, exit: 1 },
  BROKER_CONFIG_INVALID: { message: 'configuration is invalid', http: 500, exit: 2 },
  BROKER_POLICY_INVALID: { message: 'policy is invalid', http: 400, exit: 2 },
  BROKER_POLICY_UNREADABLE: { message: 'policy file cannot be read', http: 500, exit: 2 },
  BROKER_POLICY_DENIED: { message: 'not allowed by policy', http: 403, exit: 1 },
  BROKER_POLICY_QUOTA_EXCEEDED: { message: 'quota exceeded', http: 429, exit: 1 },
  BROKER_POLICY_RATE_LIMITED: { message: 'issuance rate limit exceeded', http: 429, exit: 1 },
  BROKER_TASK_NOT_FOUND: { message: 'task not found or not authorized', http: 404, exit: 1 },
  BROKER_TASK_ALREADY_ENDED: { message: 'task has already ended', http: 409, exit: 1 },
  BROKER_TASK_BAD_TRANSITION: { message: 'task status change is not allowed', http: 409, exit: 1 },
  // The revocation engine (ISSUE 4): revocations, quarantines, the revoke_failed retry.
  BROKER_CREDENTIAL_NOT_FOUND: { message: 'credential not found or not authorized', http: 404, exit: 1 },
  BROKER_REVOCATION_CONFIRM_REQUIRED: { message: 'broad revocation needs confirmation', http: 400, exit: 2 },
  BROKER_QUARANTINE_NOT_FOUND: { message: 'workload is not quarantined', http: 404, exit: 1 },
  BROKER_WORKLOAD_QUARANTINED: { message: 'workload is quarantined', http: 403, exit: 1 },
  BROKER_ISSUANCE_TASK_EXPIRED: { message: 'task deadline has passed', http: 409, exit: 1 },
  BROKER_ISSUANCE_SVID_EXPIRED: { message: 'caller svid has expired', http: 401, exit: 1 },
  BROKER_ISSUANCE_TTL_TOO_SHORT: { message: 'credential lifetime would be too short', http: 409, exit: 1 },
  BROKER_ISSUANCE_BAD_TRANSITION: { message: 'credential status change is not allowed', http: 409, exit: 1 },
  BROKER_CLI_USAGE: { message: 'command line usage error', http: 400, exit: 2 },
  BROKER_CLI_FILE_UNREADABLE: { message: 'file cannot be read', http: 400, exit: 2 },
  // The broker client (client/ and the CLI's broker commands) could not get an answer.
  BROKER_CLIENT_UNREACHABLE: { message: 'the broker cannot be reached', http: 503, exit: 1 },
  BROKER_CLIENT_TIMEOUT: { message: 'the broker did not answer in time', http: 504, exit: 1 },
  BROKER_CLIENT_BAD_RESPONSE: { message: 'unexpected answer from the broker', http: 502, exit: 1 },
  BROKER_ADAPTER_BAD_CONFIG: { message: 'credential provider configuration is invalid', http: 500, exit: 2 },
  BROKER_ADAPTER_UNKNOWN_PROVIDER: { message: 'credential provider is not configured', http: 400, exit: 2 },
  BROKER_ADAPTER_BAD_REQUEST: { message: 'credential request is invalid', http: 400, exit: 2 },
  BROKER_ADAPTER_BAD_HANDLE: { message: 'revocation handle is malformed', http: 500, exit: 1 },
  BROKER_ADAPTER_RENEW_UNSUPPORTED: { message: 'credential provider cannot renew', http: 400, exit: 2 },
  BROKER_ADAPTER_BACKEND_UNAVAILABLE: { message: 'credential backend is unavailable', http: 503, exit: 1 },
  BROKER_ADAPTER_BACKEND_REJECTED: { message: 'credential backend refused the request', http: 502, exit: 1 },
  BROKER_ADAPTER_BACKEND_DENIED: { message: 'credential backend denied permission', http: 502, exit: 1 },
  BROKER_ADAPTER_BACKEND_MALFORMED: { message: 'credential backend answer is unusable', http: 502, exit: 1 },
  BROKER_ADAPTER_BACKEND_CONFLICT: { message: 'credential backend name is taken', http: 502, exit: 1 },
  BROKER_ADAPTER_BACKEND_THROTTLED: {
    message: 'credential backend is throttling requests',
    http: 429,
    exit: 1,
  },
  BROKER_ADAPTER_KEY_STORE: { message: 'task token key store cannot be used', http: 500, exit: 1 },
  BROKER_TOKEN_MALFORMED: { message: 'task token is malformed', http: 401, exit: 1 },
  BROKER_TOKEN_ALG_NOT_ALLOWED: { message: 'task token algorithm is not allowed', http: 401, exit: 1 },
  BROKER_TOKEN_UNKNOWN_KID: { message: 'task token signing key is unknown', http: 401, exit: 1 },
  BROKER_TOKEN_BAD_SIGNATURE: { message: 'task token signature is invalid', http: 401, exit: 1 },
  BROKER_TOKEN_WRONG_AUDIENCE: { message: 'task token audience does not match', http: 401, exit: 1 },
  BROKER_TOKEN_WRONG_ISSUER: { message: 'task token issuer does not match', http: 401, exit: 1 },
  BROKER_TOKEN_EXPIRED: { message: 'task token has expired', http: 401, exit: 1 },
  BROKER_TOKEN_NOT_YET_VALID: { message: 'task token is not yet valid', http: 401, exit: 1 },
  // The revocation feed and the resource-server verifier (verifier/).
  BROKER_TOKEN_REVOKED: { message: 'task token has been revoked', http: 401, exit: 1 },
  BROKER_TOKEN_INSUFFICIENT_SCOPE: { message: 'task token lacks a required scope', http: 403, exit: 1 },
  BROKER_FEED_SLOW_CONSUMER: { message: 'revocation feed subscriber fell behind', http: 503, exit: 1 },
  BROKER_FEED_STOPPED: { message: 'the revocation feed has stopped', http: 503, exit: 1 },
  BROKER_VERIFIER_FEED_STALE: { message: 'revocation feed is not current', http: 503, exit: 1 },
  BROKER_VERIFIER_KEYS_UNAVAILABLE: { message: 'broker signing keys cannot be fetched', http: 503, exit: 1 },
  // Anomaly signals: Security Event Tokens (RFC 8417) pushed to POST /v1/signals (RFC 8935).
  BROKER_SET_MALFORMED: { message: 'security event token is malformed', http: 400, exit: 2 },
  BROKER_SET_TOO_LARGE: { message: 'security event token is too large', http: 400, exit: 2 },
  BROKER_SET_INVALID_KEY: {
    message: 'security event token key or signature is not acceptable',
    http: 400,
    exit: 1,
  },
  BROKER_SET_INVALID_ISSUER: { message: 'security event token issuer is not the caller', http: 400, exit: 1 },
  BROKER_SET_INVALID_AUDIENCE: {
    message: 'security event token audience does not match',
    http: 400,
    exit: 1,
  },
  BROKER_SET_STALE: { message: 'security event token is outside its acceptance window', http: 400, exit: 1 },
  BROKER_SET_REPLAYED: { message: 'security event token was already received', http: 400, exit: 1 },
  BROKER_SET_UNSUPPORTED_EVENT: {
    message: 'security event token has no supported event',
    http: 400,
    exit: 2,
  },
  BROKER_SET_BAD_SUBJECT: {
    message: 'security event token subject is not a task or a workload',
    http: 400,
    exit: 2,
  },
  // Refusals of the HTTP transport itself, before any service is called.
  BROKER_HTTP_NOT_FOUND: { message: 'no such route', http: 404, exit: 1 },
  BROKER_HTTP_BODY_TOO_LARGE: { message: 'request body is too large', http: 413, exit: 2 },
  BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE: { message: 'content type is not supported', http: 415, exit: 2 },
  BROKER_HTTP_NOT_READY: { message: 'the broker is not ready', http: 503, exit: 1 },
  // Refusals of the gRPC transport itself (taskpass.v1.Broker).
  BROKER_GRPC_UNIMPLEMENTED: { message: 'this call is not served by this broker', http: 501, exit: 1 },
  BROKER_GRPC_SHUTTING_DOWN: { message: 'the broker is shutting down', http: 503, exit: 1 },
  BROKER_INTERNAL: { message: 'internal error', http: 500, exit: 1 },
} as const satisfies Record<string, { message: string; http: number; exit: number }>;

/** A stable broker error code. */
export type BrokerErrorCode = keyof typeof BROKER_ERROR_CODES;

/**
 * The base class of every broker error: a stable `code`, a catalog message optionally followed by
 * `: detail`, and the foreign `cause` it translates.
 */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  readonly code: BrokerErrorCode;

  /** The detail given at construction, without the catalog message, for re-wrapping. */
  readonly detail: string | undefined;

  constructor(code: BrokerErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = BROKER_ERROR_CODES[code].message;
    super(detail ? `${base}: ${detail}` : base, options);
    this.code = code;
    this.detail = detail;
  }
}
