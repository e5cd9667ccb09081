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
  BROKER_CLI_USAGE: { message: 'command line usage error', http: 400, exit: 2 },
  BROKER_CLI_FILE_UNREADABLE: { message: 'file cannot be read', http: 400, exit: 2 },
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

  constructor(code: BrokerErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = BROKER_ERROR_CODES[code].message;
    super(detail ? `${base}: ${detail}` : base, options);
    this.code = code;
  }
}
