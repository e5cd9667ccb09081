/**
 * The timer seam (EXAMPLES.md "Time": schedulers receive the clock plus a timer seam): Node's
 * `setTimeout`/`clearTimeout` pair as an injected dependency. The Workload API server schedules SVID
 * rotation and the client schedules reconnects through it, so tests drive both with a fake clock
 * (`test/fakes/fake-clock.ts` implements it) instead of waiting. Same shape as federation's `TimerSeam`.
 */
export interface Timers {
  /** Runs `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A scheduled callback that can be cancelled. Cancelling twice, or after it ran, is a no-op. */
export interface TimerHandle {
  cancel(): void;
}

/** Node's `setTimeout` caps delays at 2^31-1 ms; longer timers would fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Real timers. They are `unref`'d: a pending rotation or reconnect never keeps the process alive on
 * its own (an open server or stream does). Delays are clamped to what Node can represent.
 */
export const systemTimers: Timers = Object.freeze({
  setTimeout: (callback: () => void, ms: number) =>
    setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS)).unref(),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/** Schedules `callback` on `timers` and returns a handle that cancels it. */
export function schedule(timers: Timers, callback: () => void, ms: number): TimerHandle {
  const handle = timers.setTimeout(callback, ms);
  return { cancel: () => timers.clearTimeout(handle) };
}
