import type { Logger } from 'pino';
import type { ProviderRegistry } from '../../adapters/registry.js';
import type { Clock } from '../../spiffe/clock.js';
import type { RevocationMetrics } from '../api/ports.js';
import type { IdSource } from '../issuance/id-source.js';
import type { Policy } from '../policy/policy-types.js';
import type { RevocationStore } from '../store/revocation-store.js';
import type { SweepTimers } from '../tasks/expiry-sweeper.js';
import { createCredentialExpiry, type CredentialExpiry } from './credential-expiry.js';
import { createRevocationService, type RevocationService } from './revocation-service.js';
import type { RevocationSettings } from './revocation-settings.js';
import { createRevocationWorker, type RevocationWorker } from './revocation-worker.js';

/** What {@link createRevocationEngine} needs: the app's seams and the `revocation:` settings. */
export interface RevocationEngineDeps {
  readonly store: RevocationStore;
  readonly providers: Pick<ProviderRegistry, 'has' | 'get'>;
  readonly policy: { current(): Policy };
  readonly clock: Clock;
  readonly timers: SweepTimers;
  readonly ids: IdSource;
  readonly logger: Logger;
  readonly settings: RevocationSettings;
  /** Uniform draws in [0, 1) for the backoff jitter (default `Math.random`; tests fix it). */
  readonly random?: () => number;
  readonly onCommitted?: () => void;
}

/** The revocation engine's parts, wired (ISSUE 4). */
export interface RevocationEngine {
  readonly store: RevocationStore;
  /** Works the durable queue; task endings hand it their credentials. */
  readonly worker: RevocationWorker;
  /** Marks credentials past their expiry `expired`. */
  readonly expiry: CredentialExpiry;
  /** The operators' port (and the anomaly responses' entry points). */
  readonly service: RevocationService;
  /** The figures of `/metrics`. */
  metrics(): Promise<RevocationMetrics>;
  /** Starts the queue polling and the expiry sweep (idempotent). */
  start(): void;
  /** Stops both and waits for the work in flight. */
  stop(): Promise<void>;
}

/** Builds the revocation engine over its store (`broker/app.ts` starts and stops it with the app). */
export function createRevocationEngine(deps: RevocationEngineDeps): RevocationEngine {
  const { store, settings, clock, timers, logger, onCommitted } = deps;
  const worker = createRevocationWorker({ ...deps, settings });
  const expiry = createCredentialExpiry({
    store,
    clock,
    timers,
    logger,
    intervalMs: settings.intervalMs,
    batchSize: settings.expiryBatchSize,
    ...(onCommitted && { onCommitted }),
  });
  const service = createRevocationService({ ...deps, worker });
  return Object.freeze({
    store,
    worker,
    expiry,
    service,
    async metrics(): Promise<RevocationMetrics> {
      const stats = await store.queueStats();
      return {
        queuePending: stats.pending,
        queueFailed: stats.failed,
        revokeFailedCredentials: stats.revokeFailedCredentials,
        attempts: worker.attempts(),
      };
    },
    start() {
      worker.start();
      expiry.start();
      // Work left by a previous run (or a replica that died) is taken up at once, not at the first tick.
      worker.kick();
    },
    async stop() {
      await expiry.stop();
      await worker.stop();
    },
  });
}
