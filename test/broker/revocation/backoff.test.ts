import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retryPlan } from '../../../broker/revocation/backoff.js';

const SETTINGS = { maxAttempts: 5, baseBackoffMs: 1000, maxBackoffMs: 6000, failedRetryMs: 3_600_000 };

describe('retryPlan', () => {
  // attempt → [nominal delay, exhausted]
  const cases: [number, number, boolean][] = [
    [1, 1000, false],
    [2, 2000, false],
    [3, 4000, false],
    [4, 6000, false], // 8000 capped at max_backoff
    [5, 3_600_000, true], // the budget is spent at the 5th failure
    [9, 3_600_000, true], // and stays spent
  ];
  for (const [attempt, nominal, exhausted] of cases) {
    it(`after failure ${attempt}: nominal ${nominal} ms, exhausted ${exhausted}, jitter within [d/2, d]`, () => {
      assert.deepEqual(
        retryPlan(attempt, SETTINGS, () => 0),
        { delayMs: nominal / 2, exhausted },
      );
      assert.deepEqual(
        retryPlan(attempt, SETTINGS, () => 0.5),
        { delayMs: (nominal * 3) / 4, exhausted },
      );
      assert.equal(retryPlan(attempt, SETTINGS, () => 0.999999).delayMs, Math.round(nominal * 0.9999995));
    });
  }

  it('clamps a draw outside [0, 1)', () => {
    assert.equal(retryPlan(1, SETTINGS, () => -3).delayMs, 500);
    assert.equal(retryPlan(1, SETTINGS, () => 7).delayMs, 1000);
  });
});
