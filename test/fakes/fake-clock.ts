import type { Clock } from '../../spiffe/clock.js';

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock and timer seam that only move when a test says so (SPIRE's `test/clock`).
 *
 * It is a {@link Clock} and has the `setTimeout`/`clearTimeout` pair schedulers take as their timer
 * seam. {@link FakeClock.advance} moves time forward and fires every timer that falls due, in due
 * order, with `now()` equal to each timer's due time while it runs.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(start: Date | string = '2025-01-01T00:00:00Z') {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** Schedules `callback` after `ms` of fake time; returns a handle for {@link clearTimeout}. */
  setTimeout(callback: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Moves time forward by `ms`, firing timers as they fall due (including ones scheduled meanwhile). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#nextDue();
      if (!next || next.due > target) break;
      this.#timers.delete(next.id);
      this.#now = next.due;
      next.callback();
    }
    this.#now = target;
  }

  /** Sets the time without firing timers (a wall-clock jump). */
  set(date: Date | string): void {
    this.#now = new Date(date).getTime();
  }

  /** How many timers are pending. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Milliseconds until the earliest pending timer, or `undefined` when none is pending. */
  nextTimerDelay(): number | undefined {
    const next = this.#nextDue();
    return next ? next.due - this.#now : undefined;
  }

  #nextDue(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
