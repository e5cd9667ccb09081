import { type ErrorPayload } from '../error-payload.js';

export { toErrorPayload, type ErrorPayload } from '../error-payload.js';

/** Where the CLI writes, injected so commands are testable in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Formats a flat record as `key: value` lines for people; nested values are shown as JSON. */
export function formatHuman(record: Readonly<Record<string, unknown>>): string {
  return Object.entries(record)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

/** Writes a command's result: JSON with `--json`, `key: value` lines otherwise. */
export function writeResult(io: CliIo, json: boolean, record: Readonly<Record<string, unknown>>): void {
  io.stdout(json ? JSON.stringify(record) + '\n' : formatHuman(record) + '\n');
}

/** Writes an error: the JSON payload with `--json` (on stdout, for scripts), a one-line message otherwise. */
export function writeError(io: CliIo, json: boolean, payload: ErrorPayload): void {
  if (json) io.stdout(JSON.stringify(payload) + '\n');
  else io.stderr(`taskpass: ${payload.error.code}: ${payload.error.message}\n`);
}

/** Thrown by a command that has already printed its own detailed error; the CLI only exits with `exitCode`. */
export class AlreadyReported extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super('already reported');
    this.exitCode = exitCode;
  }
}
