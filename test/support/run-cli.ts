import { runCli } from '../../broker/cli/program.js';
import type { Clock } from '../../spiffe/clock.js';

/** Runs the CLI in-process with captured output. */
export async function runCliCaptured(
  argv: readonly string[],
  opts: { clock?: Clock; env?: Record<string, string | undefined>; stopSignal?: Promise<void> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    clock: opts.clock ?? { now: () => new Date() },
    env: opts.env ?? {},
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    stopSignal: opts.stopSignal ?? Promise.resolve(),
  });
  return { code, stdout, stderr };
}
