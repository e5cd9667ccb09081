import { parseGlob, parsePathPrefix, matchId, matchMemberOf, type Matcher } from '../../spiffe/matcher.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import { parseDurationSeconds } from '../domain/duration.js';
import type { PolicyIssueKind } from './policy-error.js';

/** A location inside the document: keys and list indexes from the root. */
export type SchemaPath = readonly (string | number)[];

/** A problem found while checking, located by its raw path (rendered later by the loader). */
export interface SchemaIssue {
  readonly at: SchemaPath;
  readonly kind: PolicyIssueKind;
  readonly message: string;
}

/** Collects every issue; checks never stop at the first one. */
export type Issues = SchemaIssue[];

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

/** Rules for names of rules, intents and providers: 1–64 of `a-z 0-9 . _ -`, alphanumeric at both ends. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** The JSON-ish type name of a value, for messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'list' : typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that `value` is a mapping whose keys are all in `allowed` and which has every `required`
 * key; reports each unknown and each missing key. Returns the mapping, or `undefined` if it is not one.
 */
export function checkObject(
  value: unknown,
  at: SchemaPath,
  issues: Issues,
  allowed: readonly string[],
  required: readonly string[] = [],
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    issues.push({ at, kind: 'type', message: `must be a mapping, not ${typeName(value)}` });
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      issues.push({
        at: [...at, key],
        kind: 'unknown_key',
        message: `unknown key (allowed: ${allowed.join(', ')})`,
      });
    }
  }
  for (const key of required) {
    if (value[key] === undefined) issues.push({ at: [...at, key], kind: 'required', message: 'is required' });
  }
  return value;
}

/** Checks a list; returns it, or `undefined` (with an issue) when it is not one or is empty but must not be. */
export function checkList(
  value: unknown,
  at: SchemaPath,
  issues: Issues,
  nonEmpty: boolean,
): unknown[] | undefined {
  if (!Array.isArray(value)) {
    issues.push({ at, kind: 'type', message: `must be a list, not ${typeName(value)}` });
    return undefined;
  }
  if (nonEmpty && value.length === 0) {
    issues.push({ at, kind: 'empty', message: 'must not be empty' });
    return undefined;
  }
  return value;
}

/** Checks a string; returns it or `undefined` with an issue. */
export function checkString(value: unknown, at: SchemaPath, issues: Issues): string | undefined {
  if (typeof value === 'string') return value;
  issues.push({ at, kind: 'type', message: `must be a string, not ${typeName(value)}` });
  return undefined;
}

/** Checks a boolean, `fallback` when absent. */
export function checkBoolean(value: unknown, at: SchemaPath, issues: Issues, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  issues.push({ at, kind: 'type', message: `must be true or false, not ${typeName(value)}` });
  return fallback;
}

/** Checks a name (see {@link isValidName}). */
export function checkName(value: unknown, at: SchemaPath, issues: Issues): string | undefined {
  const name = checkString(value, at, issues);
  if (name === undefined) return undefined;
  if (isValidName(name)) return name;
  issues.push({ at, kind: 'bad_name', message: `${JSON.stringify(name)} is not a valid name` });
  return undefined;
}

/** Checks a list of unique names. */
export function checkNameList(value: unknown, at: SchemaPath, issues: Issues): string[] {
  const names: string[] = [];
  (checkList(value, at, issues, true) ?? []).forEach((item, i) => {
    const name = checkName(item, [...at, i], issues);
    if (name === undefined) return;
    if (names.includes(name)) {
      issues.push({ at: [...at, i], kind: 'duplicate', message: `${JSON.stringify(name)} is listed twice` });
    } else names.push(name);
  });
  return names;
}

/** Checks a duration (`5m`, `1h30m`, or whole seconds as a number), in seconds. */
export function checkDuration(value: unknown, at: SchemaPath, issues: Issues): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issues.push({ at, kind: 'type', message: `must be a duration such as "5m", not ${typeName(value)}` });
    return undefined;
  }
  try {
    return parseDurationSeconds(String(value));
  } catch {
    issues.push({ at, kind: 'bad_duration', message: `${JSON.stringify(value)} is not a valid duration` });
    return undefined;
  }
}

/** Checks a number in `[min, max]`, optionally whole. */
export function checkNumber(
  value: unknown,
  at: SchemaPath,
  issues: Issues,
  opts: { min: number; max: number; integer: boolean },
): number | undefined {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= opts.min &&
    value <= opts.max &&
    (!opts.integer || Number.isInteger(value));
  if (ok) return value;
  const what = opts.integer ? 'a whole number' : 'a number';
  issues.push({ at, kind: 'bad_number', message: `must be ${what} from ${opts.min} to ${opts.max}` });
  return undefined;
}

const MATCHER_KINDS = ['id', 'prefix', 'trust_domain', 'glob'] as const;
type MatcherKind = (typeof MATCHER_KINDS)[number];

function buildMatcher(kind: MatcherKind, text: string): Matcher {
  switch (kind) {
    case 'id':
      return matchId(SpiffeId.parse(text));
    case 'prefix':
      return parsePathPrefix(text);
    case 'trust_domain':
      return matchMemberOf(TrustDomain.parse(text));
    case 'glob':
      return parseGlob(text);
  }
}

/**
 * Checks one matcher mapping: exactly one of `id` (exact SPIFFE ID), `prefix` (path prefix, segment
 * by segment), `trust_domain` (every ID of the trust domain) or `glob` (`*` one segment, `**` any).
 */
export function checkMatcher(value: unknown, at: SchemaPath, issues: Issues): Matcher | undefined {
  const obj = checkObject(value, at, issues, MATCHER_KINDS);
  if (!obj) return undefined;
  const kinds = MATCHER_KINDS.filter((k) => obj[k] !== undefined);
  if (kinds.length !== 1) {
    issues.push({ at, kind: 'bad_matcher', message: `must have exactly one of ${MATCHER_KINDS.join(', ')}` });
    return undefined;
  }
  const kind = kinds[0]!;
  const text = checkString(obj[kind], [...at, kind], issues);
  if (text === undefined) return undefined;
  try {
    return buildMatcher(kind, text);
  } catch (err) {
    const why = err instanceof Error && 'code' in err ? ` (${String(err.code)})` : '';
    issues.push({
      at: [...at, kind],
      kind: 'bad_matcher',
      message: `${JSON.stringify(text)} is invalid${why}`,
    });
    return undefined;
  }
}

/** Checks a list of matchers (or a single matcher mapping, read as a list of one). */
export function checkMatcherList(
  value: unknown,
  at: SchemaPath,
  issues: Issues,
  nonEmpty: boolean,
): Matcher[] {
  if (isPlainObject(value)) {
    const one = checkMatcher(value, at, issues);
    return one ? [one] : [];
  }
  const list = checkList(value, at, issues, nonEmpty) ?? [];
  return list.map((item, i) => checkMatcher(item, [...at, i], issues)).filter((m) => m !== undefined);
}
