import type { Matcher } from '../../spiffe/matcher.js';
import {
  DEFAULT_QUOTAS,
  POLICY_SCHEMA_VERSION,
  ROLES,
  type IssuanceRate,
  type Policy,
  type PolicyRule,
  type ProviderGrant,
  type Quotas,
  type Role,
} from './policy-types.js';
import {
  checkBoolean,
  checkDuration,
  checkList,
  checkMatcherList,
  checkName,
  checkNameList,
  checkNumber,
  checkObject,
  checkString,
  isPlainObject,
  isValidName,
  typeName,
  type Issues,
  type SchemaPath,
} from './schema-checks.js';
import { parseScopePattern } from './scope.js';
import { ANOMALY_SECTION, checkAnomalySection } from '../anomaly/anomaly-policy-schema.js';

/** The outcome of {@link checkPolicyDocument}: a policy, or every issue found. */
export type PolicyCheck = { ok: true; policy: Policy } | { ok: false; issues: Issues };

const TOP_KEYS = ['version', 'revision', 'roles', 'rules', ANOMALY_SECTION];
const ROLE_KEYS: Readonly<Record<Role, string>> = {
  operator: 'operators',
  auditor: 'auditors',
  detector: 'detectors',
  resource_server: 'resource_servers',
};
const RULE_KEYS = [
  'name',
  'description',
  'match',
  'intents',
  'providers',
  'max_credential_ttl',
  'max_task_lifetime',
  'quotas',
  'require_approval',
  'jwt_svid_replay_protection',
];
const RULE_REQUIRED = ['name', 'match', 'intents', 'providers', 'max_credential_ttl', 'max_task_lifetime'];
const MAX_QUOTA = 1_000_000;

function checkProviders(value: unknown, at: SchemaPath, issues: Issues): Record<string, ProviderGrant> {
  const out: Record<string, ProviderGrant> = Object.create(null) as Record<string, ProviderGrant>;
  if (!isPlainObject(value)) {
    issues.push({ at, kind: 'type', message: `must be a mapping of provider names, not ${typeName(value)}` });
    return Object.freeze(out);
  }
  for (const [provider, grantValue] of Object.entries(value)) {
    const here = [...at, provider];
    if (!isValidName(provider)) {
      issues.push({
        at: here,
        kind: 'bad_name',
        message: `${JSON.stringify(provider)} is not a valid provider name`,
      });
    }
    const grant = checkObject(grantValue, here, issues, ['scopes', 'max_ttl'], ['scopes']);
    if (!grant) continue;
    const scopes = (checkList(grant.scopes, [...here, 'scopes'], issues, true) ?? []).flatMap((s, i) => {
      const pattern = typeof s === 'string' ? parseScopePattern(s) : undefined;
      if (pattern) return [pattern];
      const message = `${JSON.stringify(s)} is not a scope or a scope prefix ending in *`;
      issues.push({ at: [...here, 'scopes', i], kind: 'bad_scope', message });
      return [];
    });
    const maxTtlSeconds =
      grant.max_ttl === undefined ? undefined : checkDuration(grant.max_ttl, [...here, 'max_ttl'], issues);
    out[provider] = Object.freeze({ scopes: Object.freeze(scopes), maxTtlSeconds });
  }
  return Object.freeze(out);
}

function checkRate(value: unknown, at: SchemaPath, issues: Issues): IssuanceRate {
  const obj = checkObject(value, at, issues, ['per_second', 'burst'], ['per_second', 'burst']);
  if (!obj) return DEFAULT_QUOTAS.issuanceRate;
  const num = (key: string, min: number, integer: boolean): number | undefined =>
    obj[key] === undefined
      ? undefined
      : checkNumber(obj[key], [...at, key], issues, { min, max: MAX_QUOTA, integer });
  const perSecond = num('per_second', 0.001, false);
  const burst = num('burst', 1, true);
  return Object.freeze({ perSecond: perSecond ?? 1, burst: burst ?? 1 });
}

function checkQuotas(value: unknown, at: SchemaPath, issues: Issues): Quotas {
  if (value === undefined) return DEFAULT_QUOTAS;
  const obj = checkObject(value, at, issues, ['active_tasks', 'credentials_per_task', 'issuance_rate']);
  if (!obj) return DEFAULT_QUOTAS;
  const count = (key: string, fallback: number): number =>
    obj[key] === undefined
      ? fallback
      : (checkNumber(obj[key], [...at, key], issues, { min: 1, max: MAX_QUOTA, integer: true }) ?? fallback);
  return Object.freeze({
    activeTasks: count('active_tasks', DEFAULT_QUOTAS.activeTasks),
    credentialsPerTask: count('credentials_per_task', DEFAULT_QUOTAS.credentialsPerTask),
    issuanceRate:
      obj.issuance_rate === undefined
        ? DEFAULT_QUOTAS.issuanceRate
        : checkRate(obj.issuance_rate, [...at, 'issuance_rate'], issues),
  });
}

function checkRule(value: unknown, index: number, issues: Issues): PolicyRule | undefined {
  const at: SchemaPath = ['rules', index];
  const obj = checkObject(value, at, issues, RULE_KEYS, RULE_REQUIRED);
  if (!obj) return undefined;
  const name = obj.name === undefined ? undefined : checkName(obj.name, [...at, 'name'], issues);
  const description =
    obj.description === undefined ? undefined : checkString(obj.description, [...at, 'description'], issues);
  const match = obj.match === undefined ? [] : checkMatcherList(obj.match, [...at, 'match'], issues, true);
  const intents = obj.intents === undefined ? [] : checkNameList(obj.intents, [...at, 'intents'], issues);
  const providers =
    obj.providers === undefined ? {} : checkProviders(obj.providers, [...at, 'providers'], issues);
  const duration = (key: string): number | undefined =>
    obj[key] === undefined ? undefined : checkDuration(obj[key], [...at, key], issues);
  const maxCredentialTtlSeconds = duration('max_credential_ttl');
  const maxTaskLifetimeSeconds = duration('max_task_lifetime');
  const quotas = checkQuotas(obj.quotas, [...at, 'quotas'], issues);
  const requireApproval = checkBoolean(obj.require_approval, [...at, 'require_approval'], issues, false);
  const replay = checkBoolean(
    obj.jwt_svid_replay_protection,
    [...at, 'jwt_svid_replay_protection'],
    issues,
    false,
  );
  if (name === undefined || maxCredentialTtlSeconds === undefined || maxTaskLifetimeSeconds === undefined)
    return undefined;
  return Object.freeze({
    name,
    index,
    description,
    match: Object.freeze(match),
    intents: Object.freeze(intents),
    providers,
    maxCredentialTtlSeconds,
    maxTaskLifetimeSeconds,
    quotas,
    requireApproval,
    jwtSvidReplayProtection: replay,
  });
}

function checkRoles(value: unknown, issues: Issues): Record<Role, readonly Matcher[]> {
  const roles = { operator: [], auditor: [], detector: [], resource_server: [] } as Record<
    Role,
    readonly Matcher[]
  >;
  if (value === undefined) return Object.freeze(roles);
  const obj = checkObject(value, ['roles'], issues, Object.values(ROLE_KEYS));
  for (const role of ROLES) {
    const key = ROLE_KEYS[role];
    if (obj?.[key] !== undefined)
      roles[role] = Object.freeze(checkMatcherList(obj[key], ['roles', key], issues, false));
  }
  return Object.freeze(roles);
}

function checkRules(value: unknown, issues: Issues): PolicyRule[] {
  const rules: PolicyRule[] = [];
  (checkList(value, ['rules'], issues, false) ?? []).forEach((item, i) => {
    const rule = checkRule(item, i, issues);
    if (!rule) return;
    const twin = rules.find((r) => r.name === rule.name);
    if (twin) {
      const message = `rule name ${JSON.stringify(rule.name)} is already used by rules[${twin.index}]`;
      issues.push({ at: ['rules', i, 'name'], kind: 'duplicate', message });
    }
    rules.push(rule);
  });
  return rules;
}

/**
 * Checks a parsed policy document against schema version 1 (docs/policy.md) and builds the frozen
 * {@link Policy}. Every problem is collected with its location; nothing stops at the first one
 * (DESIGN.md, Concepts: Policy). Unknown keys are errors, so a typo never silently widens or narrows
 * a grant.
 */
export function checkPolicyDocument(doc: unknown, sha256: string): PolicyCheck {
  const issues: Issues = [];
  const top = checkObject(doc, [], issues, TOP_KEYS, ['version', 'rules']);
  if (!top) return { ok: false, issues };
  if (top.version !== undefined && top.version !== POLICY_SCHEMA_VERSION) {
    const message = `schema version ${JSON.stringify(top.version)} is not supported (expected ${POLICY_SCHEMA_VERSION})`;
    issues.push({ at: ['version'], kind: 'bad_version', message });
  }
  const revision = top.revision === undefined ? undefined : checkString(top.revision, ['revision'], issues);
  const roles = checkRoles(top.roles, issues);
  const rules = top.rules === undefined ? [] : checkRules(top.rules, issues);
  const anomaly = checkAnomalySection(top[ANOMALY_SECTION], issues);
  if (issues.length > 0) return { ok: false, issues };
  const policy: Policy = Object.freeze({
    version: POLICY_SCHEMA_VERSION,
    revision,
    sha256,
    rules: Object.freeze(rules),
    roles,
    anomaly,
  });
  return { ok: true, policy };
}
