import { SpiffeError } from '../spiffe/errors.js';
import { BROKER_ERROR_CODES, BrokerError } from './errors.js';

/** The wire shape of an error, identical on HTTP, gRPC details and `--json` CLI output. */
export interface ErrorPayload {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * Maps any thrown value to a coded error payload and a process exit status. Our own errors keep their
 * code; anything else is reported as `BROKER_INTERNAL` without its message, which may hold details an
 * operator's terminal log should not (SPIRE's rule: no secrets in errors).
 */
export function toErrorPayload(err: unknown): { payload: ErrorPayload; exitCode: number } {
  if (err instanceof SpiffeError) {
    return { payload: { error: { code: err.code, message: err.message } }, exitCode: 1 };
  }
  if (err instanceof BrokerError) {
    return {
      payload: { error: { code: err.code, message: err.message } },
      exitCode: BROKER_ERROR_CODES[err.code].exit,
    };
  }
  return {
    payload: { error: { code: 'BROKER_INTERNAL', message: BROKER_ERROR_CODES.BROKER_INTERNAL.message } },
    exitCode: BROKER_ERROR_CODES.BROKER_INTERNAL.exit,
  };
}
