import type { Logger } from 'pino';
import type { Clock } from '../../spiffe/clock.js';
import { BrokerError } from '../errors.js';
import type { RevocationStore } from '../store/revocation-store.js';
import type { SweepTimers } from '../tasks/expiry-sweeper.js';
import { createPeriodic, type Periodic } from '../periodic.js';

/** What {@link createCredentialExpiry} needs. */
export interface CredentialExpiryDeps {
  readonly store: Pick<RevocationStore, 'expireDueCredentials'>;
  readonly clock: Clock;
  readonly timers: SweepTimers;
  readonly logger: Logger;
  /** Time between sweeps (default 1000 ms). */
  readonly intervalMs?: number;
  /** Credentials per statement (default 500); a full batch sweeps again at once. */
  readonly batchSize?: number;
  readonly onCommitted?: () => void;
}

/** Marks credentials past their expiry `expired`. */
export interface CredentialExpiry extends Periodic {
  /**
   * Sweeps until no live credential past its expiry is left; resolves to how many THIS call expired.
   * Batches are claimed with `FOR UPDATE SKIP LOCKED`, so replicas sweeping together never overlap.
   *
   * @throws {BrokerError} `BROKER_STORE_*`.
   */
  sweepOnce(): Promise<number>;
}

/**
 * Creates the credential expiry sweep (ISSUE 4, "Automatic": credentials past expiry are marked
 * expired without per-row timers). There is no timer per credential: each sweep asks the partial
 * index of live credentials for those whose `expires_at` has passed, so a sweep costs in proportion
 * to what expires, not to what exists. Queued revocations of those credentials are closed with
 * outcome `expired`. Introspection already treats an expired credential as inactive before the sweep.
 */
export function createCredentialExpiry(deps: CredentialExpiryDeps): CredentialExpiry {
  const log = deps.logger.child({ component: 'credential-expiry' });
  const batchSize = deps.batchSize ?? 500;

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await deps.store.expireDueCredentials({ now: deps.clock.now(), limit: batchSize });
      if (ids.length > 0) deps.onCommitted?.();
      total += ids.length;
      if (ids.length < batchSize) break;
    }
    if (total > 0) log.info({ count: total }, 'credentials expired');
    return total;
  }

  const periodic = createPeriodic({
    timers: deps.timers,
    intervalMs: deps.intervalMs ?? 1000,
    run: sweepOnce,
    onError: (err) =>
      log.warn(
        { err_code: err instanceof BrokerError ? err.code : 'BROKER_INTERNAL' },
        'credential expiry sweep failed',
      ),
  });
  return Object.freeze({ ...periodic, sweepOnce });
}
