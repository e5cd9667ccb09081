import { BrokerError } from '../errors.js';
import type { AnomalyObserver } from './anomaly-observer.js';
import type { BuiltInDetector } from './anomaly-policy.js';
import { createBuiltInDetectors } from './detectors.js';
import type { Signal } from './signal.js';
import { createSignalService, type SignalService, type SignalServiceDeps } from './signal-service.js';

/** What {@link createAnomalyEngine} needs: the signal service's dependencies. */
export type AnomalyEngineDeps = SignalServiceDeps;

/** The anomaly signals of ISSUE 4, wired: the signal service and the built-in detectors. */
export interface AnomalyEngine {
  readonly signals: SignalService;
  /** The hooks to inject into the authenticator, the issuance service and the introspector. */
  readonly observer: AnomalyObserver;
  /** Resolves when every signal raised by a built-in detector so far has been handled. */
  idle(): Promise<void>;
  /** Stops raising built-in signals and waits for those in flight (before the database closes). */
  stop(): Promise<void>;
}

/**
 * Creates the anomaly engine. Built-in detectors raise their signals through the same signal service
 * as external detectors (detector identity `broker:<name>`), asynchronously: the request that tripped
 * a detector never waits for the ledger or the response. A signal that fails (the ledger is down) is
 * logged with its code and dropped; the next event of the pattern after the cooldown raises it again.
 */
export function createAnomalyEngine(deps: AnomalyEngineDeps): AnomalyEngine {
  const log = deps.logger.child({ component: 'detectors' });
  const signals = createSignalService(deps);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const raise = (detector: BuiltInDetector, signal: Signal): void => {
    if (stopped) return;
    const p: Promise<void> = signals.raise(detector, signal).then(
      () => undefined,
      (err: unknown) => {
        const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
        log.error(
          { detector: `broker:${detector}`, kind: signal.kind, err_code: code },
          'built-in signal failed',
        );
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };

  return Object.freeze({
    signals,
    observer: createBuiltInDetectors({ policy: deps.policy, raise }),
    idle,
    async stop() {
      stopped = true;
      await idle();
    },
  });
}
