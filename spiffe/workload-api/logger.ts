/** One pino-style log method: constant message, data in fields (EXAMPLES.md "Logging"). */
export type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/**
 * The logger the Workload API server and client accept: a structural subset of pino's `Logger`, so the
 * broker passes its pino child in and tests pass a recording fake. Never given tokens or keys.
 */
export interface WorkloadApiLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const ignore: LogMethod = () => undefined;

/** A logger that drops everything, the default when none is given. */
export const silentLogger: WorkloadApiLogger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
