/** The outcome of {@link ReplayStore.remember}. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

/**
 * Remembers presented JWT-SVIDs until they expire, so one accepted once is refused the second time
 * (ISSUE 3, Authentication: optional replay protection, by `jti` or a hash). An implementation may be
 * asynchronous (a shared store across replicas); the in-memory one is per replica.
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAt`. `fresh` the first time (or after the previous use expired),
   * `replayed` while a previous use is remembered, `full` when the store cannot remember more (the
   * caller must then refuse: forgetting would let replays through).
   */
  remember(key: string, expiresAt: Date, now: Date): ReplayVerdict | Promise<ReplayVerdict>;
}

/**
 * An in-memory {@link ReplayStore} holding at most `maxEntries` (default 200 000) unexpired keys.
 * When full, expired keys are dropped first; if none expired it answers `full` rather than forget a
 * live key (fail closed). Memory per key is its string plus a number.
 */
export function createMemoryReplayStore(opts: { maxEntries?: number } = {}): ReplayStore & {
  readonly size: number;
} {
  const maxEntries = opts.maxEntries ?? 200_000;
  const seen = new Map<string, number>();
  const prune = (nowMs: number): void => {
    for (const [key, exp] of seen) if (exp <= nowMs) seen.delete(key);
  };
  return {
    remember(key, expiresAt, now) {
      const nowMs = now.getTime();
      const previous = seen.get(key);
      if (previous !== undefined && previous > nowMs) return 'replayed';
      if (previous === undefined && seen.size >= maxEntries) {
        prune(nowMs);
        if (seen.size >= maxEntries) return 'full';
      }
      seen.set(key, expiresAt.getTime());
      return 'fresh';
    },
    get size() {
      return seen.size;
    },
  };
}
