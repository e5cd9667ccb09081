import type { IssuanceRate } from './policy-types.js';

/** One token bucket: tokens banked at an instant (milliseconds since the epoch). */
export interface TokenBucket {
  readonly tokens: number;
  readonly atMs: number;
}

/** The outcome of taking a token. */
export type TakeResult =
  | { readonly allowed: true; readonly bucket: TokenBucket; readonly remaining: number }
  | { readonly allowed: false; readonly bucket: TokenBucket; readonly retryAfterMs: number };

/**
 * Refills `bucket` to `nowMs` at `rate.perSecond`, capped at `rate.burst`. A missing bucket is full.
 * A clock that moved backwards refills nothing (time never runs in the caller's favour).
 */
export function refillBucket(
  bucket: TokenBucket | undefined,
  rate: IssuanceRate,
  nowMs: number,
): TokenBucket {
  if (!bucket) return { tokens: rate.burst, atMs: nowMs };
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const tokens = Math.min(rate.burst, bucket.tokens + (elapsedMs * rate.perSecond) / 1000);
  return { tokens, atMs: Math.max(nowMs, bucket.atMs) };
}

/**
 * Takes one token at `nowMs`: a pure token bucket (the issuance-rate quota of DESIGN.md, Concepts:
 * Policy). Returns the new bucket either way; a refusal says how long until a token is available.
 * A burst smaller than before (policy reload) applies at once.
 */
export function takeToken(bucket: TokenBucket | undefined, rate: IssuanceRate, nowMs: number): TakeResult {
  const full = refillBucket(bucket, rate, nowMs);
  if (full.tokens >= 1) {
    const next = { tokens: full.tokens - 1, atMs: full.atMs };
    return { allowed: true, bucket: next, remaining: Math.floor(next.tokens) };
  }
  const retryAfterMs = Math.ceil(((1 - full.tokens) * 1000) / rate.perSecond);
  return { allowed: false, bucket: full, retryAfterMs };
}

/** Per-workload token buckets; the caller passes time in, so tests need no clock. */
export interface RateLimiter {
  /** Takes one token for `key` (the workload's SPIFFE ID string) at `nowMs`. */
  take(key: string, rate: IssuanceRate, nowMs: number): TakeResult;
  /** Drops buckets idle for `idleMs` or more (call from a periodic sweep); their next take finds a full bucket. */
  prune(nowMs: number): void;
  /** How many keys hold a bucket. */
  readonly size: number;
}

/**
 * Creates a rate limiter holding one {@link TokenBucket} per key. State lives in the returned object
 * (no module-level state); a broker replica limits its own traffic, so N replicas allow up to N times
 * the rate — documented in docs/policy.md.
 *
 * `maxKeys` bounds memory: past it, the least recently used key is forgotten (its next request finds a
 * full bucket, which errs towards availability only for workloads idle the longest).
 */
export function createRateLimiter(opts: { maxKeys?: number; idleMs?: number } = {}): RateLimiter {
  const maxKeys = opts.maxKeys ?? 100_000;
  const idleMs = opts.idleMs ?? 10 * 60_000;
  const buckets = new Map<string, TokenBucket>();
  return {
    take(key, rate, nowMs) {
      const result = takeToken(buckets.get(key), rate, nowMs);
      // Re-insert so the Map's order is least recently used first.
      buckets.delete(key);
      buckets.set(key, result.bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      return result;
    },
    prune(nowMs) {
      for (const [key, bucket] of buckets) {
        if (nowMs - bucket.atMs >= idleMs) buckets.delete(key);
      }
    },
    get size() {
      return buckets.size;
    },
  };
}
