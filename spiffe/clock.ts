/**
 * The time seam. Services and schedulers receive a `Clock`; pure functions receive `now`.
 * Only composition roots (the CLI, `broker/app.ts`) construct {@link systemClock}.
 */
export interface Clock {
  /** The current time. */
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });
