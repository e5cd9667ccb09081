import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import type { Policy } from '../policy/policy-types.js';
import type { AnomalyObserver } from './anomaly-observer.js';
import type { BuiltInDetector } from './anomaly-policy.js';
import type { Signal, SignalSubject } from './signal.js';
import { createSlidingWindows, type SlidingWindows } from './sliding-window.js';

/** What {@link createBuiltInDetectors} needs. */
export interface DetectorDeps {
  readonly policy: { current(): Policy };
  /** Raises a signal off the caller's path (the anomaly engine tracks it and logs a failure). */
  readonly raise: (detector: BuiltInDetector, signal: Signal) => void;
  /** Keys held per detector (default 10 000). */
  readonly maxKeys?: number;
}

/** The signal kind of a built-in detector: `broker.<name>`. */
export function builtInKind(detector: BuiltInDetector): string {
  return `broker.${detector}`;
}

/** Codes of a credential request for a task that has ended (or whose deadline has passed). */
const ENDED_TASK_CODES: ReadonlySet<string> = new Set([
  'BROKER_TASK_ALREADY_ENDED',
  'BROKER_ISSUANCE_TASK_EXPIRED',
]);

/**
 * Creates the built-in detectors over the broker's own traffic (ISSUE 4; docs/anomaly.md) as an
 * {@link AnomalyObserver}. Each detector counts its pattern in per-key sliding windows held in memory
 * on this replica; at `threshold` events within `window` it raises one signal of kind
 * `broker.<name>` with its configured severity, then stays quiet for that key for `cooldown`:
 *
 * - `issuance_burst`: credential requests refused by the issuance rate (`why: rate`), per workload;
 * - `out_of_manifest`: requests for a provider or scopes outside the task's manifest, per task;
 * - `ended_task_request`: credential requests for a task that has ended, per workload;
 * - `svid_replay`: JWT-SVIDs refused as replays (where the policy turns replay protection on), per workload;
 * - `ended_task_introspection`: task tokens introspected after their task ended, per workload.
 *
 * Settings are read from the policy in force at each event (a reload applies at once); a disabled
 * detector counts nothing. The hooks do no I/O and never throw.
 */
export function createBuiltInDetectors(deps: DetectorDeps): AnomalyObserver {
  const windows = new Map<BuiltInDetector, SlidingWindows>();
  const windowsOf = (d: BuiltInDetector): SlidingWindows => {
    let w = windows.get(d);
    if (w === undefined) windows.set(d, (w = createSlidingWindows({ maxKeys: deps.maxKeys ?? 10_000 })));
    return w;
  };

  /** Counts one event; raises the detector's signal when the window reaches its threshold. */
  function count(
    detector: BuiltInDetector,
    key: string,
    now: Date,
    subject: SignalSubject,
    describe: (count: number, windowSeconds: number) => { description: string; evidence: JsonObject },
  ): void {
    try {
      const s = deps.policy.current().anomaly.detectors[detector];
      if (!s.enabled) return;
      const hits = windowsOf(detector).hit(key, now.getTime(), s);
      if (hits === undefined) return;
      const { description, evidence } = describe(hits, s.windowSeconds);
      deps.raise(detector, {
        kind: builtInKind(detector),
        severity: s.severity,
        subject,
        description,
        evidence: { ...evidence, count: hits, window_seconds: s.windowSeconds },
        occurredAt: now,
      });
    } catch {
      // A detector must never fail the request it observes.
    }
  }

  const byWorkload = (workload: SpiffeId) => ({ workload });

  const observer: AnomalyObserver = {
    credentialDenied(e) {
      if (e.why === 'rate') {
        count('issuance_burst', e.workload.toString(), e.now, byWorkload(e.workload), (n, w) => ({
          description: `issuance rate exceeded ${n} times in ${w}s`,
          evidence: { task_id: e.taskId, provider: e.provider.slice(0, 128) },
        }));
      } else if (e.why === 'scope_manifest') {
        count('out_of_manifest', e.taskId, e.now, { taskId: e.taskId }, (n, w) => ({
          description: `${n} credential requests outside the task manifest in ${w}s`,
          evidence: { provider: e.provider.slice(0, 128) },
        }));
      } else if (e.why === 'task' && ENDED_TASK_CODES.has(e.code)) {
        count('ended_task_request', e.workload.toString(), e.now, byWorkload(e.workload), (n, w) => ({
          description: `${n} credential requests for an ended task in ${w}s`,
          evidence: { task_id: e.taskId, provider: e.provider.slice(0, 128), code: e.code },
        }));
      }
    },
    svidReplayed(e) {
      count('svid_replay', e.workload.toString(), e.now, byWorkload(e.workload), (n, w) => ({
        description: `jwt-svid presented again ${n} times in ${w}s`,
        evidence: {},
      }));
    },
    endedTaskIntrospected(e) {
      count('ended_task_introspection', e.workload.toString(), e.now, byWorkload(e.workload), (n, w) => ({
        description: `${n} task tokens introspected after their task ended in ${w}s`,
        evidence: { task_id: e.taskId, credential_id: e.credentialId, task_status: e.taskStatus },
      }));
    },
  };
  return Object.freeze(observer);
}
