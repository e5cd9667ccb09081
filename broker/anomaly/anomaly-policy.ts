import { severityRank, type Severity } from './signal.js';

/**
 * What the broker does about a signal (ISSUE 4, "Policy maps signal kind and severity to a response"):
 * revoke the task (a workload subject: every task of the workload), quarantine the workload (its
 * tasks revoked, nothing new until an operator lifts it), or only record it in the ledger.
 */
export type AnomalyResponse = 'revoke_task' | 'quarantine_workload' | 'record_only';

/** Every response, in a stable order. */
export const ANOMALY_RESPONSES: readonly AnomalyResponse[] = Object.freeze([
  'revoke_task',
  'quarantine_workload',
  'record_only',
]);

/** A kind pattern: an exact kind, a prefix ending in `*` (`caep.*`), or `*` for every kind. */
export interface KindPattern {
  readonly text: string;
  readonly prefix: boolean;
}

/** One rule of `anomaly_responses.rules`. */
export interface ResponseRule {
  readonly name: string;
  /** Position in the list, from 0 (first match wins). */
  readonly index: number;
  readonly kinds: readonly KindPattern[];
  /** The rule applies to signals at least this severe. */
  readonly minSeverity: Severity;
  readonly response: AnomalyResponse;
}

/** The built-in detectors over the broker's own traffic (docs/anomaly.md). */
export type BuiltInDetector =
  'issuance_burst' | 'out_of_manifest' | 'ended_task_request' | 'svid_replay' | 'ended_task_introspection';

/** Every built-in detector, in a stable order. */
export const BUILT_IN_DETECTORS: readonly BuiltInDetector[] = Object.freeze([
  'issuance_burst',
  'out_of_manifest',
  'ended_task_request',
  'svid_replay',
  'ended_task_introspection',
]);

/** The settings of one built-in detector. */
export interface DetectorSettings {
  readonly enabled: boolean;
  /** The severity of the signals it raises. */
  readonly severity: Severity;
  /** Raise a signal when this many events of the pattern fall in `windowSeconds`. */
  readonly threshold: number;
  readonly windowSeconds: number;
  /** After raising, stay quiet for the same key this long (one incident, one signal). */
  readonly cooldownSeconds: number;
}

/** The validated `anomaly_responses` section of the policy. */
export interface AnomalyPolicy {
  readonly rules: readonly ResponseRule[];
  /** The response when no rule matches. */
  readonly defaultResponse: AnomalyResponse;
  readonly detectors: Readonly<Record<BuiltInDetector, DetectorSettings>>;
  /** A Security Event Token whose `iat` is older than this is refused (and its `jti` kept this long). */
  readonly setMaxAgeSeconds: number;
}

function settings(severity: Severity, threshold: number, windowSeconds: number): DetectorSettings {
  return Object.freeze({ enabled: true, severity, threshold, windowSeconds, cooldownSeconds: 300 });
}

/** Each detector's defaults (on, recording only unless a rule says otherwise). */
export const DEFAULT_DETECTOR_SETTINGS: Readonly<Record<BuiltInDetector, DetectorSettings>> = Object.freeze({
  issuance_burst: settings('medium', 5, 60),
  out_of_manifest: settings('medium', 3, 300),
  ended_task_request: settings('high', 1, 300),
  svid_replay: settings('high', 1, 300),
  ended_task_introspection: settings('medium', 1, 300),
});

/** The policy of a file without an `anomaly_responses` section: record every signal, detectors on. */
export const DEFAULT_ANOMALY_POLICY: AnomalyPolicy = Object.freeze({
  rules: Object.freeze([]),
  defaultResponse: 'record_only',
  detectors: DEFAULT_DETECTOR_SETTINGS,
  setMaxAgeSeconds: 600,
});

/** True when `pattern` matches `kind`. */
export function kindMatches(pattern: KindPattern, kind: string): boolean {
  return pattern.prefix ? kind.startsWith(pattern.text) : kind === pattern.text;
}

/** The response to a signal and the rule that chose it (`default` when none matched). */
export interface ResponseDecision {
  readonly response: AnomalyResponse;
  readonly rule: string;
}

/**
 * The response to a signal of `kind` and `severity`: the FIRST rule in file order whose kind
 * patterns match and whose `min_severity` the signal reaches; the policy's default otherwise. Pure.
 */
export function decideResponse(policy: AnomalyPolicy, kind: string, severity: Severity): ResponseDecision {
  for (const rule of policy.rules) {
    if (severityRank(severity) < severityRank(rule.minSeverity)) continue;
    if (rule.kinds.some((p) => kindMatches(p, kind))) return { response: rule.response, rule: rule.name };
  }
  return { response: policy.defaultResponse, rule: 'default' };
}
