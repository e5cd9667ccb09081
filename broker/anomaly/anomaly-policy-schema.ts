import {
  checkBoolean,
  checkDuration,
  checkList,
  checkName,
  checkNumber,
  checkObject,
  checkString,
  type Issues,
  type SchemaPath,
} from '../policy/schema-checks.js';
import {
  ANOMALY_RESPONSES,
  BUILT_IN_DETECTORS,
  DEFAULT_ANOMALY_POLICY,
  DEFAULT_DETECTOR_SETTINGS,
  type AnomalyPolicy,
  type AnomalyResponse,
  type BuiltInDetector,
  type DetectorSettings,
  type KindPattern,
  type ResponseRule,
} from './anomaly-policy.js';
import { SEVERITIES, isValidKind, type Severity } from './signal.js';

/** The policy file's key for the section. */
export const ANOMALY_SECTION = 'anomaly_responses';

const SECTION_KEYS = ['default', 'rules', 'detectors', 'set_max_age'];
const RULE_KEYS = ['name', 'kinds', 'min_severity', 'response'];
const DETECTOR_KEYS = ['enabled', 'severity', 'threshold', 'window', 'cooldown'];
const MAX_THRESHOLD = 10_000;
const DAY = 86_400;

/** An enumerated value: one of `allowed`, else a `bad_value` issue. */
function checkEnum<T extends string>(
  value: unknown,
  at: SchemaPath,
  issues: Issues,
  allowed: readonly T[],
): T | undefined {
  const text = checkString(value, at, issues);
  if (text === undefined) return undefined;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  issues.push({
    at,
    kind: 'bad_value',
    message: `${JSON.stringify(text)} is not one of ${allowed.join(', ')}`,
  });
  return undefined;
}

/** A kind pattern: an exact kind, a kind prefix followed by one final `*`, or `*` alone (every kind). */
export function parseKindPattern(text: string): KindPattern | undefined {
  if (text === '*') return Object.freeze({ text: '', prefix: true });
  if (text.endsWith('*')) {
    const prefix = text.slice(0, -1);
    return isValidKind(prefix) ? Object.freeze({ text: prefix, prefix: true }) : undefined;
  }
  return isValidKind(text) ? Object.freeze({ text, prefix: false }) : undefined;
}

function checkKinds(value: unknown, at: SchemaPath, issues: Issues): KindPattern[] {
  return (checkList(value, at, issues, true) ?? []).flatMap((item, i) => {
    const pattern = typeof item === 'string' ? parseKindPattern(item) : undefined;
    if (pattern) return [pattern];
    const message = `${JSON.stringify(item)} is not a signal kind, a kind prefix ending in *, or *`;
    issues.push({ at: [...at, i], kind: 'bad_kind', message });
    return [];
  });
}

function checkRule(value: unknown, index: number, issues: Issues): ResponseRule | undefined {
  const at: SchemaPath = [ANOMALY_SECTION, 'rules', index];
  const obj = checkObject(value, at, issues, RULE_KEYS, ['name', 'kinds', 'response']);
  if (!obj) return undefined;
  const name = obj.name === undefined ? undefined : checkName(obj.name, [...at, 'name'], issues);
  const kinds = obj.kinds === undefined ? [] : checkKinds(obj.kinds, [...at, 'kinds'], issues);
  const minSeverity: Severity | undefined =
    obj.min_severity === undefined
      ? 'low'
      : checkEnum(obj.min_severity, [...at, 'min_severity'], issues, SEVERITIES);
  const response =
    obj.response === undefined
      ? undefined
      : checkEnum<AnomalyResponse>(obj.response, [...at, 'response'], issues, ANOMALY_RESPONSES);
  if (name === undefined || minSeverity === undefined || response === undefined) return undefined;
  return Object.freeze({ name, index, kinds: Object.freeze(kinds), minSeverity, response });
}

function checkRules(value: unknown, issues: Issues): ResponseRule[] {
  const rules: ResponseRule[] = [];
  (checkList(value, [ANOMALY_SECTION, 'rules'], issues, false) ?? []).forEach((item, i) => {
    const rule = checkRule(item, i, issues);
    if (!rule) return;
    if (rule.name === 'default' || rules.some((r) => r.name === rule.name)) {
      const message = `rule name ${JSON.stringify(rule.name)} is already used (or is "default")`;
      issues.push({ at: [ANOMALY_SECTION, 'rules', i, 'name'], kind: 'duplicate', message });
    }
    rules.push(rule);
  });
  return rules;
}

function checkDetector(value: unknown, name: BuiltInDetector, issues: Issues): DetectorSettings {
  const at: SchemaPath = [ANOMALY_SECTION, 'detectors', name];
  const base = DEFAULT_DETECTOR_SETTINGS[name];
  const obj = checkObject(value, at, issues, DETECTOR_KEYS);
  if (!obj) return base;
  const seconds = (key: string, fallback: number): number => {
    if (obj[key] === undefined) return fallback;
    const s = checkDuration(obj[key], [...at, key], issues);
    if (s !== undefined && s > DAY) {
      issues.push({ at: [...at, key], kind: 'bad_duration', message: 'must be at most 1d' });
    }
    return s ?? fallback;
  };
  const threshold =
    obj.threshold === undefined
      ? base.threshold
      : (checkNumber(obj.threshold, [...at, 'threshold'], issues, {
          min: 1,
          max: MAX_THRESHOLD,
          integer: true,
        }) ?? base.threshold);
  const severity =
    obj.severity === undefined
      ? base.severity
      : (checkEnum(obj.severity, [...at, 'severity'], issues, SEVERITIES) ?? base.severity);
  return Object.freeze({
    enabled: checkBoolean(obj.enabled, [...at, 'enabled'], issues, base.enabled),
    severity,
    threshold,
    windowSeconds: seconds('window', base.windowSeconds),
    cooldownSeconds: seconds('cooldown', base.cooldownSeconds),
  });
}

function checkDetectors(value: unknown, issues: Issues): Record<BuiltInDetector, DetectorSettings> {
  const out = { ...DEFAULT_DETECTOR_SETTINGS };
  if (value === undefined) return Object.freeze(out);
  const obj = checkObject(value, [ANOMALY_SECTION, 'detectors'], issues, BUILT_IN_DETECTORS);
  for (const name of BUILT_IN_DETECTORS) {
    if (obj?.[name] !== undefined) out[name] = checkDetector(obj[name], name, issues);
  }
  return Object.freeze(out);
}

/**
 * Checks the policy's `anomaly_responses` section (schema version 1, docs/policy.md and
 * docs/anomaly.md), collecting every problem with its location in `issues`; returns the defaults of
 * {@link DEFAULT_ANOMALY_POLICY} for what the section leaves out (and when it is absent).
 */
export function checkAnomalySection(value: unknown, issues: Issues): AnomalyPolicy {
  if (value === undefined) return DEFAULT_ANOMALY_POLICY;
  const obj = checkObject(value, [ANOMALY_SECTION], issues, SECTION_KEYS);
  if (!obj) return DEFAULT_ANOMALY_POLICY;
  const defaultResponse =
    obj.default === undefined
      ? DEFAULT_ANOMALY_POLICY.defaultResponse
      : (checkEnum(obj.default, [ANOMALY_SECTION, 'default'], issues, ANOMALY_RESPONSES) ??
        DEFAULT_ANOMALY_POLICY.defaultResponse);
  let setMaxAgeSeconds = DEFAULT_ANOMALY_POLICY.setMaxAgeSeconds;
  if (obj.set_max_age !== undefined) {
    const s = checkDuration(obj.set_max_age, [ANOMALY_SECTION, 'set_max_age'], issues);
    if (s !== undefined && s > DAY) {
      issues.push({
        at: [ANOMALY_SECTION, 'set_max_age'],
        kind: 'bad_duration',
        message: 'must be at most 1d',
      });
    }
    setMaxAgeSeconds = s ?? setMaxAgeSeconds;
  }
  return Object.freeze({
    rules: Object.freeze(obj.rules === undefined ? [] : checkRules(obj.rules, issues)),
    defaultResponse,
    detectors: checkDetectors(obj.detectors, issues),
    setMaxAgeSeconds,
  });
}
