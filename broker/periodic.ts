import type { SweepTimers } from './tasks/expiry-sweeper.js';

/** A background job on the timer seam. */
export interface Periodic {
  /** Starts running `run` every interval (idempotent). */
  start(): void;
  /** Stops the timer and waits for a run in flight. */
  stop(): Promise<void>;
  /** Waits for the run in flight, if any (the timer keeps going). */
  settled(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` on `timers` (the fake clock's in tests), never two at once: the next
 * run is scheduled when the previous one settles. A failed run goes to `onError`; the next tick retries.
 */
export function createPeriodic(opts: {
  readonly timers: SweepTimers;
  readonly intervalMs: number;
  readonly run: () => Promise<unknown>;
  readonly onError: (err: unknown) => void;
}): Periodic {
  let handle: unknown;
  let running = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  function schedule(): void {
    if (!running) return;
    handle = opts.timers.setTimeout(() => {
      handle = undefined;
      inFlight = opts.run().catch(opts.onError).finally(schedule);
    }, opts.intervalMs);
  }
  return Object.freeze({
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (handle !== undefined) opts.timers.clearTimeout(handle);
      handle = undefined;
      await inFlight;
    },
    async settled() {
      await inFlight;
    },
  });
}
