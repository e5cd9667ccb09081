import { ConfigReader } from '../config-reader.js';
import { parseScopeMap, type AwsScopeGrant } from './scope-map.js';

/** STS's shortest role session (AssumeRole, `DurationSeconds`: 900 to the role's maximum). */
export const STS_MIN_SESSION_SECONDS = 900;
/** STS's longest role session: a role's `MaxSessionDuration` is at most 12 hours. */
export const STS_MAX_SESSION_SECONDS = 43200;
/** The default `aud` of the broker's web identity tokens: what AWS's own examples register. */
export const DEFAULT_WEB_IDENTITY_AUDIENCE = 'sts.amazonaws.com';
/** The default `sub` of the token the broker presents for its own management session. */
export const DEFAULT_MANAGER_SUBJECT = 'taskpass-broker';

/** How the broker authenticates to STS. */
export type AwsStsAuth =
  | { readonly mode: 'keys' }
  | {
      readonly mode: 'web-identity';
      /** The `aud` of the tokens the broker signs (registered as the IAM OIDC provider's client id). */
      readonly audience: string;
      /** The role the broker assumes (with its own token) to edit the target role's inline policies. */
      readonly managerRoleArn: string | undefined;
      readonly managerSubject: string;
    };

/** Parsed configuration of one `aws-sts` provider (e.g. `reports-aws`). */
export interface AwsStsConfig {
  readonly roleArn: string;
  /** The role's name (the ARN's last path segment): what IAM's role policy calls take. */
  readonly roleName: string;
  readonly region: string;
  /** Where STS and IAM are reached instead of AWS (moto, LocalStack); undefined for AWS itself. */
  readonly endpoint: string | undefined;
  readonly auth: AwsStsAuth;
  /** Each broker scope this provider can express, as IAM. */
  readonly scopes: ReadonlyMap<string, AwsScopeGrant>;
  /** What a TTL under STS's 900 s minimum gets: refused, or rounded up to 900 s (and declared). */
  readonly shortTtl: 'refuse' | 'round_up';
  /** `deny-policy`: per-credential deny on the role (revocable); `none`: the session just expires. */
  readonly revocation: 'deny-policy' | 'none';
  /** Longest session: the role's `MaxSessionDuration` (longer TTLs are shortened to it). */
  readonly maxTtlSeconds: number;
  /** Per-attempt request timeout for STS and IAM calls. */
  readonly timeoutMs: number;
  /** Attempts per call, retries included (the SDK retries throttling and transient errors). */
  readonly maxAttempts: number;
}

/**
 * An IAM role ARN (IAM identifiers reference): partition, 12-digit account, optional path, and a role
 * name of at most 64 characters from `[\w+=,.@-]`.
 */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const FIELDS = [
  'role_arn',
  'region',
  'endpoint',
  'auth',
  'scopes',
  'short_ttl',
  'revocation',
  'max_ttl',
  'timeout',
  'max_attempts',
];

/** The role name of a role ARN, or undefined when it is not one. */
export function roleNameOf(arn: string): string | undefined {
  return ROLE_ARN.exec(arn)?.[1];
}

function endpointProblem(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'endpoint: must be an http(s) url';
    if (url.search !== '' || url.hash !== '') return 'endpoint: must have no query or fragment';
    return undefined;
  } catch {
    return 'endpoint: must be an absolute url';
  }
}

function optionalString(raw: Record<string, unknown>, key: string, where: string, problems: string[]) {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0 && value.trim() === value) return value;
  problems.push(`${where}.${key}: must be a non-empty string without surrounding spaces`);
  return undefined;
}

function parseAuth(raw: unknown, problems: string[]): AwsStsAuth {
  if (raw === undefined) return { mode: 'keys' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('auth: must be {mode: keys} or {mode: web-identity, ...}');
    return { mode: 'keys' };
  }
  const { mode, ...rest } = raw as Record<string, unknown>;
  if (mode === 'keys') {
    for (const key of Object.keys(rest)) problems.push(`auth.${key}: unknown field for mode keys`);
    return { mode: 'keys' };
  }
  if (mode !== 'web-identity') {
    problems.push('auth.mode: must be one of keys, web-identity');
    return { mode: 'keys' };
  }
  const known = ['audience', 'manager_role_arn', 'manager_subject'];
  for (const key of Object.keys(rest)) if (!known.includes(key)) problems.push(`auth.${key}: unknown field`);
  const managerRoleArn = optionalString(rest, 'manager_role_arn', 'auth', problems);
  if (managerRoleArn !== undefined && roleNameOf(managerRoleArn) === undefined) {
    problems.push('auth.manager_role_arn: must be an iam role arn');
  }
  return Object.freeze({
    mode: 'web-identity',
    audience: optionalString(rest, 'audience', 'auth', problems) ?? DEFAULT_WEB_IDENTITY_AUDIENCE,
    managerRoleArn,
    managerSubject: optionalString(rest, 'manager_subject', 'auth', problems) ?? DEFAULT_MANAGER_SUBJECT,
  });
}

/**
 * Validates an `aws-sts` provider's configuration: `role_arn`, `region` and `scopes` (required);
 * `endpoint`, `auth` (`{mode: keys}` by default, or `{mode: web-identity, audience, manager_role_arn,
 * manager_subject}`), `short_ttl` (`refuse` default, `round_up`), `revocation` (`deny-policy` default,
 * `none`), `max_ttl` (900 s to 12 h, default 1 h), `timeout` (1–60 s, default 5 s), `max_attempts`
 * (1–10, default 3). Cross-field rules: `round_up` needs `deny-policy` (the extra lifetime must be
 * revocable); `deny-policy` in web-identity mode needs `auth.manager_role_arn`.
 *
 * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem.
 */
export function parseAwsStsConfig(raw: unknown): AwsStsConfig {
  const reader = new ConfigReader(raw, FIELDS);
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const quiet = typeof raw !== 'object' || raw === null || Array.isArray(raw);
  const problems: string[] = [];
  const roleArn = reader.string('role_arn');
  const roleName = roleNameOf(roleArn);
  if (roleArn !== '' && roleName === undefined) problems.push('role_arn: must be an iam role arn');
  const region = reader.string('region');
  if (region !== '' && !REGION.test(region)) problems.push('region: must be an aws region name');
  const endpoint = fields['endpoint'] === undefined ? undefined : reader.string('endpoint');
  const endpointIssue = endpoint ? endpointProblem(endpoint) : undefined;
  if (endpointIssue !== undefined) problems.push(endpointIssue);
  const revocation = reader.oneOf('revocation', ['deny-policy', 'none'] as const, 'deny-policy');
  const shortTtl = reader.oneOf('short_ttl', ['refuse', 'round_up'] as const, 'refuse');
  const auth = parseAuth(fields['auth'], problems);
  const scopes = parseScopeMap(fields['scopes'], revocation === 'deny-policy', problems);
  const maxTtlSeconds = reader.duration('max_ttl', 3600, STS_MAX_SESSION_SECONDS);
  if (maxTtlSeconds < STS_MIN_SESSION_SECONDS) problems.push('max_ttl: must be at least 900s');
  const timeoutSeconds = reader.duration('timeout', 5, 60);
  const maxAttempts = fields['max_attempts'] ?? 3;
  if (!Number.isSafeInteger(maxAttempts) || (maxAttempts as number) < 1 || (maxAttempts as number) > 10) {
    problems.push('max_attempts: must be a whole number from 1 to 10');
  }
  if (shortTtl === 'round_up' && revocation !== 'deny-policy') {
    problems.push('short_ttl: round_up needs revocation deny-policy, so the extra lifetime can be revoked');
  }
  if (auth.mode === 'web-identity' && revocation === 'deny-policy' && auth.managerRoleArn === undefined) {
    problems.push('auth.manager_role_arn: required for revocation deny-policy in web-identity mode');
  }
  if (!quiet) problems.forEach((p) => reader.problem(p));
  return reader.finish({
    roleArn,
    roleName: roleName ?? '',
    region,
    endpoint,
    auth,
    scopes,
    shortTtl,
    revocation,
    maxTtlSeconds,
    timeoutMs: timeoutSeconds * 1000,
    maxAttempts: maxAttempts as number,
  });
}
