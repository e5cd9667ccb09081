import { BROKER_ERROR_CODES } from '../broker/errors.js';

/**
 * A refusal the broker itself answered (a non-2xx `{error: {code, message}}`, or an RFC 6749 §5.2
 * OAuth error with our code in `error_code`). `code` is the server's code unchanged — a
 * `BROKER_*` code of `broker/errors.ts` or a `SPIFFE_*` code of `spiffe/errors.ts` (docs/errors.md) —
 * so callers branch on it exactly as on the HTTP API's. Local failures (unreachable, timeout, a
 * response that is not the API's JSON) are `BrokerError`s with `BROKER_CLIENT_*` codes instead.
 */
export class BrokerApiError extends Error {
  override readonly name = 'BrokerApiError';
  /** The broker's error code, as sent. */
  readonly code: string;
  /** The HTTP status of the answer. */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }

  /**
   * The process exit status the CLI gives this refusal: the catalog's for a `BROKER_*` code, 1 for
   * anything else (SPIFFE codes exit 1, as the CLI's own SPIFFE errors do).
   */
  get exitCode(): number {
    return Object.hasOwn(BROKER_ERROR_CODES, this.code)
      ? BROKER_ERROR_CODES[this.code as keyof typeof BROKER_ERROR_CODES].exit
      : 1;
  }
}
