import { BrokerError } from '../errors.js';

/** SQLSTATE raised by the ledger's append-only guard (migrations/*_ledger-append-only-guard). */
export const APPEND_ONLY_SQLSTATE = 'TP001';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres reports these without a code.
const UNAVAILABLE_MESSAGES = [
  'connection terminated',
  'timeout exceeded when trying to connect',
  'connection error and is not queryable',
  'cannot use a pool after calling end',
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when `err` means "the database cannot be reached" rather than "this statement is wrong":
 * a socket error, a connection-class SQLSTATE (`08…`), a server shutting down, or node-postgres'
 * own connection messages.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof BrokerError) return err.code === 'BROKER_STORE_UNAVAILABLE';
  const code = codeOf(err);
  if (code && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  const message = err instanceof Error ? err.message.toLowerCase() : '';
  return UNAVAILABLE_MESSAGES.some((m) => message.includes(m));
}

/**
 * Translates a foreign error where it enters the broker (EXAMPLES.md "Errors"): a `BrokerError`
 * passes through, a connection failure becomes `BROKER_STORE_UNAVAILABLE`, a unique violation
 * `BROKER_STORE_CONFLICT`, the ledger guard `BROKER_LEDGER_APPEND_ONLY`, anything else
 * `BROKER_STORE_QUERY_FAILED`. Only the SQLSTATE goes into the message (statement texts and
 * parameters stay in `cause`, which is never shown to callers).
 */
export function translateStoreError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (isConnectionError(err)) return new BrokerError('BROKER_STORE_UNAVAILABLE', undefined, { cause: err });
  const code = codeOf(err);
  if (code === '23505') return new BrokerError('BROKER_STORE_CONFLICT', undefined, { cause: err });
  if (code === APPEND_ONLY_SQLSTATE) {
    return new BrokerError('BROKER_LEDGER_APPEND_ONLY', undefined, { cause: err });
  }
  return new BrokerError('BROKER_STORE_QUERY_FAILED', code ? `sqlstate ${code}` : undefined, { cause: err });
}

/** Runs `fn`, translating whatever it throws with {@link translateStoreError}. */
export async function withStoreErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateStoreError(err);
  }
}
