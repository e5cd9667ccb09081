#!/usr/bin/env node
// Process entry of the `taskpass` CLI: the only place that touches process.argv, process.env, the
// process streams, signals and the system clock.
import { systemClock } from '../../spiffe/clock.js';
import { runCli } from './program.js';

const stopSignal = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const code = await runCli(process.argv.slice(2), {
  clock: systemClock,
  env: process.env,
  io: { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
  stopSignal,
  reloadSignal: (listener) => {
    process.on('SIGHUP', listener);
    return () => process.off('SIGHUP', listener);
  },
});
process.exitCode = code;
// Long-running commands resolve only after stopSignal; short ones leave nothing open, but the
// signal listeners would keep no handles, so the process exits on its own.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
