import { pino, type Logger } from 'pino';

/**
 * Redaction paths applied to every log line (EXAMPLES.md "Logging"): authorization headers and any
 * `secret`, `token`, `key` or `password` field, at the top level or one level down.
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'headers.authorization',
  ...['secret', 'token', 'key', 'password', 'privateKey', 'private_key'].flatMap((k) => [k, `*.${k}`]),
];

/**
 * Creates the process logger: JSON lines on `destination` (stderr for the CLI, so stdout stays the
 * command's result) with secrets redacted. Only composition roots call this; services get children.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } },
    opts.destination ?? process.stderr,
  );
}
