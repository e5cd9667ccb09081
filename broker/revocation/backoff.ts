import type { RevocationSettings } from './revocation-settings.js';

/** When to try a failed revocation again, and whether its retry budget is spent. */
export interface RetryPlan {
  readonly delayMs: number;
  /** True from the `maxAttempts`-th failure on: the credential is (or stays) `revoke_failed`. */
  readonly exhausted: boolean;
}

/**
 * The delay after the `attempt`-th failed attempt (1-based): exponential backoff, `baseBackoffMs`
 * doubled per attempt and capped at `maxBackoffMs`, then `failedRetryMs` once the budget is spent.
 * "Equal jitter" spreads the delay over [d/2, d] so replicas retrying a backend that came back do
 * not all hit it in the same instant, while never retrying sooner than half the nominal delay.
 *
 * @param random a uniform draw in [0, 1) (injected so tests are exact).
 */
export function retryPlan(
  attempt: number,
  settings: Pick<RevocationSettings, 'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs' | 'failedRetryMs'>,
  random: () => number,
): RetryPlan {
  const exhausted = attempt >= settings.maxAttempts;
  const nominal = exhausted
    ? settings.failedRetryMs
    : Math.min(settings.maxBackoffMs, settings.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
  const draw = Math.min(Math.max(random(), 0), 1);
  return { delayMs: Math.round(nominal / 2 + (draw * nominal) / 2), exhausted };
}
