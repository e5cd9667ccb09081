import type { Logger } from 'pino';
import type { Clock } from '../../spiffe/clock.js';
import { BrokerError } from '../errors.js';
import { createPeriodic } from '../periodic.js';
import type { IssuanceStore } from '../store/issuance-store.js';

/** The timer seam (the fake clock provides the same pair). */
export interface SweepTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What {@link createExpirySweeper} needs. */
export interface ExpirySweeperDeps {
  readonly store: Pick<IssuanceStore, 'expireDueTasks'>;
  /** The revocation worker, woken when expired tasks queued revocations. */
  readonly revoker: { kick(): void };
  readonly clock: Clock;
  readonly timers: SweepTimers;
  readonly logger: Logger;
  /** Time between sweeps (default 1000 ms). */
  readonly intervalMs?: number;
  /** Tasks claimed per transaction (default 100); a full batch sweeps again at once. */
  readonly batchSize?: number;
  readonly onCommitted?: () => void;
}

/** Expires tasks past their deadline and revokes their credentials. */
export interface ExpirySweeper {
  /**
   * Sweeps until no due task is left: each batch is claimed with `FOR UPDATE SKIP LOCKED`, so
   * replicas sweeping together never expire a task twice (DESIGN.md, Scale-out). Resolves to how
   * many tasks THIS call expired.
   *
   * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE`.
   */
  sweepOnce(): Promise<number>;
  /** Starts periodic sweeps (idempotent). Errors are logged; the next tick retries. */
  start(): void;
  /** Stops the timer and waits for a sweep in flight. */
  stop(): Promise<void>;
}

/**
 * Creates the expiry sweeper (ISSUE 3, Tasks and issuance; DESIGN invariant 3). Introspection already
 * treats an overdue task's tokens as inactive before the sweeper runs; the sweep makes it durable,
 * writes `task.expired`, and queues the credentials' backend revocations in the same transaction
 * (ISSUE 4); the revocation worker, woken at once, carries them out.
 */
export function createExpirySweeper(deps: ExpirySweeperDeps): ExpirySweeper {
  const log = deps.logger.child({ component: 'expiry-sweeper' });
  const intervalMs = deps.intervalMs ?? 1000;
  const batchSize = deps.batchSize ?? 100;

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.clock.now();
      const ended = await deps.store.expireDueTasks({ now, limit: batchSize });
      if (ended.length > 0) {
        deps.onCommitted?.();
        if (ended.some((e) => e.activeCredentials.length > 0)) deps.revoker.kick();
      }
      for (const { task } of ended) {
        log.info({ spiffe_id: task.workload.toString(), task_id: task.id }, 'task expired');
      }
      total += ended.length;
      if (ended.length < batchSize) return total;
    }
  }

  const periodic = createPeriodic({
    timers: deps.timers,
    intervalMs,
    run: sweepOnce,
    onError: (err: unknown) => {
      const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
      log.warn({ err_code: code }, 'expiry sweep failed');
    },
  });

  return Object.freeze({
    sweepOnce,
    start: () => periodic.start(),
    stop: () => periodic.stop(),
  });
}
