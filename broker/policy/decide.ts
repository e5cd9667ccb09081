import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { credentialTtlSeconds, type CredentialTtl } from '../domain/credential-ttl.js';
import { assertTaskUsableBy, manifestEntryFor, type ManifestEntry, type Task } from '../domain/task.js';
import { BROKER_ERROR_CODES, BrokerError, type BrokerErrorCode } from '../errors.js';
import { findRule, type RuleMatch } from './match-rule.js';
import type { IssuanceRate, Policy, PolicyRule } from './policy-types.js';
import { isValidScope, scopesOutside } from './scope.js';

/** Why a request was denied, for the ledger. Public errors carry only the code. */
export type DenialWhy =
  | 'no_rule'
  | 'intent'
  | 'provider'
  | 'scope_policy'
  | 'scope_manifest'
  | 'quota'
  | 'task'
  | 'ttl'
  | 'bad_request';

/**
 * A refusal. `code` is what the caller sees. `why`, `reason` and `rule` are the ledger-facing
 * explanation: "no rule matched" and "the rule does not allow it" share the public code
 * `BROKER_POLICY_DENIED`, so an unauthorized caller cannot tell them apart, while the ledger can.
 */
export interface Denial {
  readonly allowed: false;
  readonly code: BrokerErrorCode;
  readonly why: DenialWhy;
  readonly reason: string;
  /** The rule that decided, absent when none matched. */
  readonly rule: string | undefined;
}

/** What a task start request asks for. */
export interface TaskRequest {
  readonly intent: string;
  readonly manifest: readonly ManifestEntry[];
  /** The requested task lifetime in whole seconds; the rule's maximum when absent. */
  readonly ttlSeconds?: number | undefined;
  /** How many tasks the workload has active now (for the active-tasks quota). */
  readonly activeTasks: number;
}

/** An allowed task start. */
export interface TaskGrant {
  readonly allowed: true;
  readonly rule: string;
  readonly matcher: string;
  /** The lifetime to give the task: the request capped at `maxTaskLifetimeSeconds`. */
  readonly lifetimeSeconds: number;
  readonly lifetimeCapped: boolean;
  readonly maxTaskLifetimeSeconds: number;
  readonly approvalRequired: boolean;
  readonly jwtSvidReplayProtection: boolean;
  readonly explanation: string;
}

/** What a credential request asks for, with the facts the TTL rule needs. */
export interface CredentialRequest {
  readonly provider: string;
  /** Exact scopes; empty means the scopes the task's manifest declares for the provider. */
  readonly scopes: readonly string[];
  readonly ttlSeconds?: number | undefined;
  /** How many credentials the task has minted so far (for the credentials-per-task quota). */
  readonly issuedForTask: number;
  /** Expiry of the SVID that authenticated this request (DESIGN invariant 2). */
  readonly svidExpiresAt: Date;
  readonly now: Date;
}

/** An allowed issuance. The caller still applies the issuance-rate quota with `issuanceRate`. */
export interface CredentialGrant {
  readonly allowed: true;
  readonly rule: string;
  readonly matcher: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly ttl: CredentialTtl;
  readonly issuanceRate: IssuanceRate;
  readonly approvalRequired: boolean;
  readonly explanation: string;
}

function deny(code: BrokerErrorCode, why: DenialWhy, reason: string, rule?: PolicyRule): Denial {
  return Object.freeze({ allowed: false, code, why, reason, rule: rule?.name });
}

function denyNoRule(workload: SpiffeId): Denial {
  return deny('BROKER_POLICY_DENIED', 'no_rule', `no rule matches ${workload}`);
}

/** Checks each manifest entry against the rule's providers and scope patterns. */
function checkManifest(rule: PolicyRule, manifest: readonly ManifestEntry[]): Denial | undefined {
  const seen = new Set<string>();
  for (const entry of manifest) {
    if (seen.has(entry.provider) || entry.scopes.length === 0 || !entry.scopes.every(isValidScope)) {
      return deny(
        'BROKER_INPUT_INVALID',
        'bad_request',
        `manifest entry for ${entry.provider} is malformed`,
        rule,
      );
    }
    seen.add(entry.provider);
    const grant = rule.providers[entry.provider];
    if (!grant) {
      return deny(
        'BROKER_POLICY_DENIED',
        'provider',
        `rule ${rule.name} does not grant provider ${entry.provider}`,
        rule,
      );
    }
    const outside = scopesOutside(grant.scopes, entry.scopes);
    if (outside.length > 0) {
      const reason = `rule ${rule.name} does not grant ${entry.provider} scopes ${outside.join(' ')}`;
      return deny('BROKER_POLICY_DENIED', 'scope_policy', reason, rule);
    }
  }
  return undefined;
}

function checkIntent(match: RuleMatch, intent: string): Denial | undefined {
  if (match.rule.intents.includes(intent)) return undefined;
  return deny(
    'BROKER_POLICY_DENIED',
    'intent',
    `rule ${match.rule.name} does not allow intent ${intent}`,
    match.rule,
  );
}

/**
 * Decides whether `workload` may start a task (DESIGN.md, Concepts: Policy and Task): a rule matches
 * (first in file order), the intent is one of the rule's, every manifest provider and scope is granted,
 * the active-tasks quota has room and the lifetime is capped at the rule's maximum. Pure: the caller
 * supplies the active-task count and records the decision in the ledger.
 *
 * Never throws for a policy refusal: returns a {@link Denial} whose public code is
 * `BROKER_POLICY_DENIED` (no rule, intent, provider, scope), `BROKER_POLICY_QUOTA_EXCEEDED` or
 * `BROKER_INPUT_INVALID` (malformed manifest or TTL) (DESIGN invariant 5).
 */
export function authorizeTask(policy: Policy, workload: SpiffeId, request: TaskRequest): TaskGrant | Denial {
  const match = findRule(policy, workload);
  if (!match) return denyNoRule(workload);
  const { rule } = match;
  const refusal = checkIntent(match, request.intent) ?? checkManifest(rule, request.manifest);
  if (refusal) return refusal;
  const ttl = request.ttlSeconds;
  if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0)) {
    return deny(
      'BROKER_INPUT_INVALID',
      'bad_request',
      'task ttl must be a positive whole number of seconds',
      rule,
    );
  }
  if (request.activeTasks >= rule.quotas.activeTasks) {
    const reason = `workload has ${request.activeTasks} active tasks, rule ${rule.name} allows ${rule.quotas.activeTasks}`;
    return deny('BROKER_POLICY_QUOTA_EXCEEDED', 'quota', reason, rule);
  }
  const max = rule.maxTaskLifetimeSeconds;
  const lifetimeSeconds = Math.min(ttl ?? max, max);
  return Object.freeze({
    allowed: true,
    rule: rule.name,
    matcher: match.matcher,
    lifetimeSeconds,
    lifetimeCapped: ttl !== undefined && ttl > max,
    maxTaskLifetimeSeconds: max,
    approvalRequired: rule.requireApproval,
    jwtSvidReplayProtection: rule.jwtSvidReplayProtection,
    explanation: `rule ${rule.name} (${match.matcher}) allows intent ${request.intent} for ${lifetimeSeconds}s`,
  });
}

/** The requested scopes, or the manifest's for the provider when none are named. */
function effectiveScopes(
  rule: PolicyRule,
  task: Task,
  request: CredentialRequest,
): { scopes: readonly string[] } | Denial {
  const entry = manifestEntryFor(task, request.provider);
  if (!entry) {
    return deny(
      'BROKER_POLICY_DENIED',
      'scope_manifest',
      `task manifest does not declare ${request.provider}`,
      rule,
    );
  }
  const scopes = request.scopes.length === 0 ? entry.scopes : request.scopes;
  if (!scopes.every(isValidScope))
    return deny('BROKER_INPUT_INVALID', 'bad_request', 'a requested scope is malformed', rule);
  const outside = scopes.filter((s) => !entry.scopes.includes(s));
  if (outside.length > 0) {
    const reason = `task manifest does not declare ${request.provider} scopes ${outside.join(' ')}`;
    return deny('BROKER_POLICY_DENIED', 'scope_manifest', reason, rule);
  }
  return { scopes };
}

function taskDenial(task: Task, workload: SpiffeId, now: Date): Denial | undefined {
  try {
    assertTaskUsableBy(task, workload, now);
    return undefined;
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    // The denial becomes a BrokerError of the same code again: keep only the detail, so the
    // catalog message is not repeated.
    return deny(err.code, 'task', err.detail ?? err.message);
  }
}

function ttlOrDenial(rule: PolicyRule, request: CredentialRequest, task: Task): CredentialTtl | Denial {
  const providerMax = rule.providers[request.provider]?.maxTtlSeconds;
  const policyMax = Math.min(rule.maxCredentialTtlSeconds, providerMax ?? rule.maxCredentialTtlSeconds);
  try {
    return credentialTtlSeconds({
      requested: request.ttlSeconds,
      policyMax,
      taskDeadline: task.deadline,
      svidExpiresAt: request.svidExpiresAt,
      now: request.now,
    });
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    return deny(err.code, err.code === 'BROKER_INPUT_INVALID' ? 'bad_request' : 'ttl', err.message, rule);
  }
}

/**
 * Decides whether `workload` may mint a credential for `task` (ISSUE 3, Tasks and issuance): the
 * caller owns the active task, the rule matching it NOW (policies reload) still allows the task's
 * intent, the scopes are within BOTH the task's manifest and the rule's grant, the credentials-per-task
 * quota has room, and the TTL follows DESIGN invariant 2 via {@link credentialTtlSeconds}.
 *
 * Never throws for a refusal; returns a {@link Denial}: `BROKER_TASK_NOT_FOUND` (another workload's
 * task), `BROKER_TASK_ALREADY_ENDED`, `BROKER_POLICY_DENIED`, `BROKER_POLICY_QUOTA_EXCEEDED`,
 * `BROKER_INPUT_INVALID` or a `BROKER_ISSUANCE_*` TTL code.
 */
export function authorizeCredential(
  policy: Policy,
  workload: SpiffeId,
  task: Task,
  request: CredentialRequest,
): CredentialGrant | Denial {
  const taskRefusal = taskDenial(task, workload, request.now);
  if (taskRefusal) return taskRefusal;
  const match = findRule(policy, workload);
  if (!match) return denyNoRule(workload);
  const { rule } = match;
  const intentRefusal = checkIntent(match, task.intent.name);
  if (intentRefusal) return intentRefusal;
  const wanted = effectiveScopes(rule, task, request);
  if ('allowed' in wanted) return wanted;
  const { scopes } = wanted;
  const policyRefusal = checkManifest(rule, [{ provider: request.provider, scopes }]);
  if (policyRefusal) return policyRefusal;
  if (request.issuedForTask >= rule.quotas.credentialsPerTask) {
    const reason = `task has minted ${request.issuedForTask} credentials, rule ${rule.name} allows ${rule.quotas.credentialsPerTask}`;
    return deny('BROKER_POLICY_QUOTA_EXCEEDED', 'quota', reason, rule);
  }
  const ttl = ttlOrDenial(rule, request, task);
  if ('allowed' in ttl) return ttl;
  return Object.freeze({
    allowed: true,
    rule: rule.name,
    matcher: match.matcher,
    provider: request.provider,
    scopes: Object.freeze([...scopes]),
    ttl,
    issuanceRate: rule.quotas.issuanceRate,
    approvalRequired: rule.requireApproval,
    explanation: `rule ${rule.name} (${match.matcher}) grants ${request.provider} ${scopes.join(' ')}; ${ttl.explanation}`,
  });
}

/**
 * The error to give the caller for `denial`. `BROKER_POLICY_DENIED` and `BROKER_TASK_NOT_FOUND` carry
 * the catalog message only, so "no rule", "not allowed", "not yours" and "does not exist" look the
 * same from outside; other codes carry the reason, which concerns the caller's own, authorized request.
 */
export function denialError(denial: Denial): BrokerError {
  const opaque = denial.code === 'BROKER_POLICY_DENIED' || denial.code === 'BROKER_TASK_NOT_FOUND';
  // A reason that is only the catalog message adds nothing as a detail.
  const bare = denial.reason === BROKER_ERROR_CODES[denial.code].message;
  return new BrokerError(denial.code, opaque || bare ? undefined : denial.reason);
}
