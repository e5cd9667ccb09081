import { parseDurationSeconds } from '../domain/duration.js';

/**
 * How the revocation engine retries and waits (ISSUE 4, "Never lost"). Parsed once from the config
 * file's `revocation:` section (and `TASKPASS_REVOCATION_MAX_ATTEMPTS`); factories take this slice.
 */
export interface RevocationSettings {
  /** Backend attempts before a credential becomes `revoke_failed` (it is still retried afterwards). */
  readonly maxAttempts: number;
  /** Delay after the first failure; doubles each attempt (with jitter) up to {@link maxBackoffMs}. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Delay between retries once the budget is spent (operators can retry at once). */
  readonly failedRetryMs: number;
  /** How long a claim is held: a worker that died holding it is replaced after this long. */
  readonly leaseMs: number;
  /** Longest one backend revoke may take before it counts as failed; below {@link leaseMs}. */
  readonly attemptTimeoutMs: number;
  /** How long a revoking call waits for its own credentials' first attempt before answering `pending`. */
  readonly awaitMs: number;
  /** Time between queue polls (enqueues also wake the worker at once). */
  readonly intervalMs: number;
  /** Queue rows claimed per statement. */
  readonly batchSize: number;
  /** Credentials expired per sweep statement. */
  readonly expiryBatchSize: number;
}

/** The defaults: 8 attempts from 1 s doubling to 5 min (about 6 min in all), then hourly. */
export const DEFAULT_REVOCATION_SETTINGS: RevocationSettings = Object.freeze({
  maxAttempts: 8,
  baseBackoffMs: 1000,
  maxBackoffMs: 300_000,
  failedRetryMs: 3_600_000,
  leaseMs: 60_000,
  attemptTimeoutMs: 15_000,
  awaitMs: 2000,
  intervalMs: 1000,
  batchSize: 32,
  expiryBatchSize: 500,
});

const DURATIONS = {
  base_backoff: 'baseBackoffMs',
  max_backoff: 'maxBackoffMs',
  failed_retry_interval: 'failedRetryMs',
  lease: 'leaseMs',
  attempt_timeout: 'attemptTimeoutMs',
  await: 'awaitMs',
  poll_interval: 'intervalMs',
} as const satisfies Record<string, keyof RevocationSettings>;

const KEYS = ['max_attempts', ...Object.keys(DURATIONS)];

function durationMs(value: unknown, where: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  try {
    if (typeof value === 'number' || typeof value === 'string')
      return parseDurationSeconds(String(value)) * 1000;
  } catch {
    // Reported below, with where it is.
  }
  problems.push(`${where}: must be a duration such as 2s, 5m or 1h`);
  return undefined;
}

function attempts(value: unknown, problems: string[]): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 100) return n;
  problems.push('revocation.max_attempts (TASKPASS_REVOCATION_MAX_ATTEMPTS): must be an integer 1..100');
  return undefined;
}

/**
 * Parses the `revocation:` section (`max_attempts`, `base_backoff`, `max_backoff`,
 * `failed_retry_interval`, `lease`, `attempt_timeout`, `await`, `poll_interval`), the environment's
 * `TASKPASS_REVOCATION_MAX_ATTEMPTS` winning, onto {@link DEFAULT_REVOCATION_SETTINGS}. Problems are
 * pushed onto `problems` (the config parser reports them all at once).
 */
export function parseRevocationSettings(
  section: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): RevocationSettings {
  const raw =
    typeof section === 'object' && section !== null && !Array.isArray(section)
      ? (section as Record<string, unknown>)
      : {};
  if (section !== undefined && section !== null && raw !== section) {
    problems.push('revocation: must be a mapping');
  }
  for (const key of Object.keys(raw)) {
    if (!KEYS.includes(key)) problems.push(`revocation.${key}: unknown setting`);
  }
  const out: { -readonly [K in keyof RevocationSettings]: RevocationSettings[K] } = {
    ...DEFAULT_REVOCATION_SETTINGS,
  };
  out.maxAttempts =
    attempts(env['TASKPASS_REVOCATION_MAX_ATTEMPTS'] ?? raw['max_attempts'], problems) ?? out.maxAttempts;
  for (const [key, field] of Object.entries(DURATIONS)) {
    out[field] = durationMs(raw[key], `revocation.${key}`, problems) ?? out[field];
  }
  if (out.maxBackoffMs < out.baseBackoffMs) problems.push('revocation.max_backoff: must be >= base_backoff');
  if (out.attemptTimeoutMs >= out.leaseMs) {
    problems.push('revocation.attempt_timeout: must be shorter than revocation.lease');
  }
  return Object.freeze(out);
}
