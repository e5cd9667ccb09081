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
  BROKER_ISSUANCE_TASK_EXPIRED: { message: 'task deadline has passed', http: 409, exit: 1 },
  BROKER_ISSUANCE_SVID_EXPIRED: { message: 'caller svid has expired', http: 401, exit: 1 },
  BROKER_ISSUANCE_TTL_TOO_SHORT: { message: 'credential lifetime would be too short', http: 409, exit: 1 },
  BROKER_ISSUANCE_BAD_TRANSITION: { message: 'credential status change is not allowed', http: 409, exit: 1 },
  BROKER_CLI_USAGE: { message: 'command line usage error', http: 400, exit: 2 },
  BROKER_CLI_FILE_UNREADABLE: { message: 'file cannot be read', http: 400, exit: 2 },
  BROKER_ADAPTER_BAD_CONFIG: { message: 'credential provider configuration is invalid', http: 500, exit: 2 },
  BROKER_ADAPTER_UNKNOWN_PROVIDER: { message: 'credential provider is not configured', http: 400, exit: 2 },
  BROKER_ADAPTER_BAD_REQUEST: { message: 'credential request is invalid', http: 400, exit: 2 },
  BROKER_ADAPTER_BAD_HANDLE: { message: 'revocation handle is malformed', http: 500, exit: 1 },
  BROKER_ADAPTER_RENEW_UNSUPPORTED: { message: 'credential provider cannot renew', http: 400, exit: 2 },
  BROKER_ADAPTER_BACKEND_UNAVAILABLE: { message: 'credential backend is unavailable', http: 503, exit: 1 },
  BROKER_ADAPTER_BACKEND_REJECTED: { message: 'credential backend refused the request', http: 502, exit: 1 },
  BROKER_ADAPTER_KEY_STORE: { message: 'task token key store cannot be used', http: 500, exit: 1 },
  BROKER_TOKEN_MALFORMED: { message: 'task token is malformed', http: 401, exit: 1 },
  BROKER_TOKEN_ALG_NOT_ALLOWED: { message: 'task token algorithm is not allowed', http: 401, exit: 1 },
  BROKER_TOKEN_UNKNOWN_KID: { message: 'task token signing key is unknown', http: 401, exit: 1 },
  BROKER_TOKEN_BAD_SIGNATURE: { message: 'task token signature is invalid', http: 401, exit: 1 },
  BROKER_TOKEN_WRONG_AUDIENCE: { message: 'task token audience does not match', http: 401, exit: 1 },
  BROKER_TOKEN_WRONG_ISSUER: { message: 'task token issuer does not match', http: 401, exit: 1 },
  BROKER_TOKEN_EXPIRED: { message: 'task token has expired', http: 401, exit: 1 },
  BROKER_TOKEN_NOT_YET_VALID: { message: 'task token is not yet valid', http: 401, exit: 1 },
  // Refusals of the HTTP transport itself, before any service is called.
  BROKER_HTTP_NOT_FOUND: { message: 'no such route', http: 404, exit: 1 },
  BROKER_HTTP_BODY_TOO_LARGE: { message: 'request body is too large', http: 413, exit: 2 },
  BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE: { message: 'content type is not supported', http: 415, exit: 2 },
  BROKER_HTTP_NOT_READY: { message: 'the broker is not ready', http: 503, exit: 1 },
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
