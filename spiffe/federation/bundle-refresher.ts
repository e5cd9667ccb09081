import type { SpiffeBundle } from '../bundle.js';
import type { BundleSet } from '../bundle-set.js';
import type { Clock } from '../clock.js';
import { SpiffeError } from '../errors.js';
import type { TrustDomain } from '../trust-domain.js';
import type { BundleFetcher } from './bundle-fetcher.js';

/** The timer seam: `setTimeout`/`clearTimeout` as an injected dependency, so tests control time. */
export interface TimerSeam {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node caps timer delays at 2^31-1 ms and fires longer ones at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Node's timers, unref'd so that a pending refresh never keeps the process alive. */
export const systemTimer: TimerSeam = Object.freeze({
  setTimeout: (callback: () => void, ms: number) =>
    setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS)).unref(),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/** How often to refresh, in milliseconds. */
export interface RefreshPolicy {
  /** Without a `spiffe_refresh_hint`: five minutes, as Trust Domain and Bundle §6.2 suggests. */
  readonly defaultIntervalMs: number;
  /** Floor on a hint, so a tiny hint cannot make us hammer the endpoint. */
  readonly minIntervalMs: number;
  /** Ceiling on a hint, so a huge one cannot stop key rotations and redactions from reaching us. */
  readonly maxIntervalMs: number;
  /** First retry delay after a failure; doubles per consecutive failure, capped by the interval. */
  readonly initialRetryMs: number;
}

/** The default {@link RefreshPolicy}. */
export const DEFAULT_REFRESH_POLICY: RefreshPolicy = Object.freeze({
  defaultIntervalMs: 5 * 60_000,
  minIntervalMs: 30_000,
  maxIntervalMs: 24 * 3_600_000,
  initialRetryMs: 5_000,
});

/** The refresh interval for `bundle`: its hint (§4.1.2) clamped to the policy, or the default. */
export function refreshIntervalMs(bundle: SpiffeBundle | undefined, policy: RefreshPolicy): number {
  const hint = bundle?.refreshHintSeconds;
  if (hint === undefined) return policy.defaultIntervalMs;
  return Math.min(policy.maxIntervalMs, Math.max(policy.minIntervalMs, hint * 1000));
}

/** The delay before retry number `failures` (1-based): exponential, never beyond `intervalMs`. */
export function retryDelayMs(failures: number, intervalMs: number, policy: RefreshPolicy): number {
  return Math.min(intervalMs, policy.initialRetryMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * Checks a fetched bundle against the one held: it must be for the configured trust domain (§5: the
 * trust domain comes from configuration, never from the endpoint), and its `spiffe_sequence` must not
 * go backwards (§4.1.1: the sequence increases monotonically, so a lower one is a replay or rollback).
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_TRUST_DOMAIN_MISMATCH` or `SPIFFE_BUNDLE_STALE_SEQUENCE`.
 */
export function checkFetchedBundle(
  expected: TrustDomain,
  current: SpiffeBundle | undefined,
  fetched: SpiffeBundle,
): void {
  if (!fetched.trustDomain.equals(expected)) {
    throw new SpiffeError(
      'SPIFFE_BUNDLE_TRUST_DOMAIN_MISMATCH',
      `got ${fetched.trustDomain}, expected ${expected}`,
    );
  }
  const held = current?.sequenceNumber;
  const got = fetched.sequenceNumber;
  if (held !== undefined && got !== undefined && got < held) {
    throw new SpiffeError('SPIFFE_BUNDLE_STALE_SEQUENCE', `got ${got}, holding ${held}`);
  }
}

/** What one refresh attempt did. */
export type RefreshEvent =
  | {
      readonly trustDomain: TrustDomain;
      readonly ok: true;
      readonly bundle: SpiffeBundle;
      /** When the next attempt is due; `undefined` while the refresher is stopped. */
      readonly nextRefreshAt: Date | undefined;
    }
  | {
      readonly trustDomain: TrustDomain;
      readonly ok: false;
      readonly error: SpiffeError;
      readonly nextRefreshAt: Date | undefined;
    };

/** The refresh state of one trust domain. */
export interface RefreshStatus {
  readonly source: string;
  readonly lastSuccessAt: Date | undefined;
  readonly lastError: SpiffeError | undefined;
  readonly consecutiveFailures: number;
  readonly nextRefreshAt: Date | undefined;
}

/** Dependencies and settings of a {@link BundleRefresher}. */
export interface BundleRefresherOptions {
  /** The set kept current; it may already hold bundles (e.g. the out-of-band one for https_spiffe). */
  readonly bundles: BundleSet;
  /** One fetcher per federated trust domain. */
  readonly fetchers: readonly BundleFetcher[];
  readonly clock: Clock;
  readonly timer: TimerSeam;
  readonly policy?: Partial<RefreshPolicy>;
  /** Called after every attempt, for logs and metrics. Must not throw. */
  readonly onRefresh?: (event: RefreshEvent) => void;
}

interface Entry {
  readonly fetcher: BundleFetcher;
  status: RefreshStatus;
  timer: unknown;
  inFlight: Promise<RefreshEvent> | undefined;
}

/**
 * Keeps a {@link BundleSet} current by refetching each federated trust domain's bundle per its
 * `spiffe_refresh_hint` (Trust Domain and Bundle §4.1.2, §5.1, §6.2), clamped by a {@link RefreshPolicy}.
 *
 * A failed or rejected fetch never removes or downgrades what the set holds: the last good bundle stays
 * and the fetch is retried with exponential backoff (SPIRE's bundle client behaves the same way).
 */
export class BundleRefresher {
  readonly #opts: BundleRefresherOptions;
  readonly #policy: RefreshPolicy;
  readonly #entries = new Map<string, Entry>();
  #running = false;

  /** @throws {SpiffeError} `SPIFFE_BUNDLE_BAD_ENDPOINT` when two fetchers serve one trust domain. */
  constructor(opts: BundleRefresherOptions) {
    this.#opts = opts;
    this.#policy = { ...DEFAULT_REFRESH_POLICY, ...opts.policy };
    for (const fetcher of opts.fetchers) {
      const name = fetcher.trustDomain.name;
      if (this.#entries.has(name))
        throw new SpiffeError('SPIFFE_BUNDLE_BAD_ENDPOINT', `two sources for ${name}`);
      const status = {
        source: fetcher.describe(),
        lastSuccessAt: undefined,
        lastError: undefined,
        consecutiveFailures: 0,
        nextRefreshAt: undefined,
      };
      this.#entries.set(name, { fetcher, status, timer: undefined, inFlight: undefined });
    }
  }

  /** Starts refreshing: every trust domain is fetched now, then on its schedule. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const entry of this.#entries.values()) void this.#refresh(entry);
  }

  /** Stops refreshing; a fetch in flight completes but schedules nothing. */
  stop(): void {
    this.#running = false;
    for (const entry of this.#entries.values()) this.#cancelTimer(entry);
  }

  /**
   * Fetches the bundle of `trustDomain` now (joining a fetch already in flight) and reschedules it.
   *
   * @throws {SpiffeError} `SPIFFE_BUNDLE_NOT_FOUND` when no fetcher serves `trustDomain`.
   */
  refreshNow(trustDomain: TrustDomain): Promise<RefreshEvent> {
    const entry = this.#entries.get(trustDomain.name);
    if (!entry) throw new SpiffeError('SPIFFE_BUNDLE_NOT_FOUND', `no bundle source for ${trustDomain}`);
    return this.#refresh(entry);
  }

  /** The refresh state of `trustDomain`, or `undefined` when no fetcher serves it. */
  status(trustDomain: TrustDomain): RefreshStatus | undefined {
    return this.#entries.get(trustDomain.name)?.status;
  }

  /** Resolves once no fetch is in flight (tests use it after advancing a fake clock). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const pending = [...this.#entries.values()].flatMap((e) => (e.inFlight ? [e.inFlight] : []));
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  #refresh(entry: Entry): Promise<RefreshEvent> {
    if (entry.inFlight) return entry.inFlight;
    this.#cancelTimer(entry);
    const attempt = this.#attempt(entry).finally(() => {
      entry.inFlight = undefined;
    });
    entry.inFlight = attempt;
    return attempt;
  }

  async #attempt(entry: Entry): Promise<RefreshEvent> {
    const { fetcher } = entry;
    let event: RefreshEvent;
    try {
      const fetched = await fetcher.fetchBundle();
      // Compare against what the set holds after the fetch, not before: it may have changed meanwhile.
      checkFetchedBundle(fetcher.trustDomain, this.#opts.bundles.get(fetcher.trustDomain), fetched);
      this.#opts.bundles.add(fetched);
      event = this.#succeeded(entry, fetched);
    } catch (err) {
      const error =
        err instanceof SpiffeError
          ? err
          : new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', undefined, { cause: err });
      event = this.#failed(entry, this.#opts.bundles.get(fetcher.trustDomain), error);
    }
    try {
      this.#opts.onRefresh?.(event);
    } catch {
      // A faulty observer must not stop refreshing nor surface as an unhandled rejection of a timer.
    }
    return event;
  }

  #succeeded(entry: Entry, bundle: SpiffeBundle): RefreshEvent {
    const now = this.#opts.clock.now();
    const nextRefreshAt = this.#schedule(entry, refreshIntervalMs(bundle, this.#policy), now);
    entry.status = {
      ...entry.status,
      lastSuccessAt: now,
      lastError: undefined,
      consecutiveFailures: 0,
      nextRefreshAt,
    };
    return { trustDomain: entry.fetcher.trustDomain, ok: true, bundle, nextRefreshAt };
  }

  #failed(entry: Entry, held: SpiffeBundle | undefined, error: SpiffeError): RefreshEvent {
    const now = this.#opts.clock.now();
    const failures = entry.status.consecutiveFailures + 1;
    const delay = retryDelayMs(failures, refreshIntervalMs(held, this.#policy), this.#policy);
    const nextRefreshAt = this.#schedule(entry, delay, now);
    entry.status = { ...entry.status, lastError: error, consecutiveFailures: failures, nextRefreshAt };
    return { trustDomain: entry.fetcher.trustDomain, ok: false, error, nextRefreshAt };
  }

  #schedule(entry: Entry, delayMs: number, now: Date): Date | undefined {
    this.#cancelTimer(entry);
    if (!this.#running) return undefined;
    entry.timer = this.#opts.timer.setTimeout(() => {
      entry.timer = undefined;
      void this.#refresh(entry);
    }, delayMs);
    return new Date(now.getTime() + delayMs);
  }

  #cancelTimer(entry: Entry): void {
    if (entry.timer !== undefined) this.#opts.timer.clearTimeout(entry.timer);
    entry.timer = undefined;
  }
}
