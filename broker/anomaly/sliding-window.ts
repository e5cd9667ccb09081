/** The settings a window is counted with (read per event, so a policy reload applies at once). */
export interface WindowSettings {
  readonly threshold: number;
  readonly windowSeconds: number;
  readonly cooldownSeconds: number;
}

/** Per-key sliding-window counters. */
export interface SlidingWindows {
  /**
   * Counts one event of `key` at `nowMs`. Returns the number of events in the window when this one
   * reaches `threshold` (the window then restarts and the key stays quiet for `cooldownSeconds`),
   * else `undefined`.
   */
  hit(key: string, nowMs: number, s: WindowSettings): number | undefined;
  /** Keys held. */
  readonly size: number;
}

interface KeyState {
  /** Event times in the window, oldest first; at most `threshold` are kept. */
  times: number[];
  /** Until when the key is quiet after a firing. */
  quietUntilMs: number;
}

/**
 * Creates in-memory sliding windows, one per key (the built-in detectors' state; per broker replica,
 * so each replica counts only the traffic it serves). Memory is bounded: at most `maxKeys` keys
 * (least recently used forgotten first) and `threshold` times per key; times after `nowMs` (a clock
 * that moved backwards) are dropped. Pure apart from its own state: time comes in as an argument.
 */
export function createSlidingWindows(opts: { maxKeys?: number } = {}): SlidingWindows {
  const maxKeys = opts.maxKeys ?? 10_000;
  const keys = new Map<string, KeyState>();
  return {
    hit(key, nowMs, s) {
      const state = keys.get(key) ?? { times: [], quietUntilMs: -Infinity };
      // Re-insert so the Map's order is least recently used first.
      keys.delete(key);
      keys.set(key, state);
      if (keys.size > maxKeys) keys.delete(keys.keys().next().value!);
      if (nowMs < state.quietUntilMs) return undefined;
      const since = nowMs - s.windowSeconds * 1000;
      state.times = state.times.filter((t) => t > since && t <= nowMs);
      state.times.push(nowMs);
      if (state.times.length > s.threshold) state.times.splice(0, state.times.length - s.threshold);
      if (state.times.length < s.threshold) return undefined;
      const count = state.times.length;
      state.times = [];
      state.quietUntilMs = nowMs + s.cooldownSeconds * 1000;
      return count;
    },
    get size() {
      return keys.size;
    },
  };
}
