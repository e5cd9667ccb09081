import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter, takeToken, type TokenBucket } from '../../../broker/policy/rate-limiter.js';

const RATE = { perSecond: 2, burst: 3 };
const T0 = 1_735_689_600_000;

describe('takeToken', () => {
  it('allows a full burst at once, then refuses with the wait until the next token', () => {
    let bucket: TokenBucket | undefined;
    const allowed: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const r = takeToken(bucket, RATE, T0);
      allowed.push(r.allowed);
      bucket = r.bucket;
      if (!r.allowed) assert.equal(r.retryAfterMs, 500);
    }
    assert.deepEqual(allowed, [true, true, true, false]);
  });

  it('refills at the rate: one token per 500 ms at 2 per second', () => {
    let bucket = { tokens: 0, atMs: T0 };
    const at = (ms: number) => {
      const r = takeToken(bucket, RATE, T0 + ms);
      bucket = r.bucket;
      return r.allowed;
    };
    assert.deepEqual([at(499), at(500), at(999), at(1000)], [false, true, false, true]);
  });

  it('never banks more than the burst after a long idle', () => {
    const r = takeToken({ tokens: 0, atMs: T0 }, RATE, T0 + 3_600_000);
    assert.ok(r.allowed);
    assert.equal(r.remaining, 2);
  });

  it('refills nothing when the clock goes backwards', () => {
    const r = takeToken({ tokens: 0.5, atMs: T0 }, RATE, T0 - 10_000);
    assert.equal(r.allowed, false);
    assert.deepEqual(r.bucket, { tokens: 0.5, atMs: T0 });
    assert.equal(!r.allowed && r.retryAfterMs, 250);
  });

  it('applies a smaller burst from a reloaded policy at once', () => {
    const r = takeToken({ tokens: 10, atMs: T0 }, { perSecond: 1, burst: 1 }, T0);
    assert.ok(r.allowed);
    assert.equal(r.remaining, 0);
  });
});

describe('createRateLimiter', () => {
  it('keeps one bucket per workload', () => {
    const limiter = createRateLimiter();
    const one = { perSecond: 1, burst: 1 };
    assert.equal(limiter.take('spiffe://td/a', one, T0).allowed, true);
    assert.equal(limiter.take('spiffe://td/a', one, T0).allowed, false);
    assert.equal(limiter.take('spiffe://td/b', one, T0).allowed, true);
    assert.equal(limiter.take('spiffe://td/a', one, T0 + 1000).allowed, true);
    assert.equal(limiter.size, 2);
  });

  it('forgets the least recently used key past maxKeys', () => {
    const limiter = createRateLimiter({ maxKeys: 2 });
    const one = { perSecond: 1, burst: 1 };
    limiter.take('a', one, T0);
    limiter.take('b', one, T0);
    limiter.take('a', one, T0);
    limiter.take('c', one, T0);
    assert.equal(limiter.size, 2);
    // `b` was the least recently used, so it was dropped and starts full again; `a` is still empty.
    assert.equal(limiter.take('b', one, T0).allowed, true);
    assert.equal(limiter.take('c', one, T0).allowed, false);
  });

  it('prunes idle buckets', () => {
    const limiter = createRateLimiter({ idleMs: 60_000 });
    limiter.take('a', RATE, T0);
    limiter.take('b', RATE, T0 + 30_000);
    limiter.prune(T0 + 60_000);
    assert.equal(limiter.size, 1);
  });
});
