import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Policy, PolicyRule, Role } from './policy-types.js';
import { ROLES } from './policy-types.js';

/** The rule that applies to a workload, and which of its matchers selected it. */
export interface RuleMatch {
  readonly rule: PolicyRule;
  /** The matcher that matched, as `describe()` renders it, e.g. `glob spiffe://td/agents/*`. */
  readonly matcher: string;
}

/**
 * The rule that governs `workload`: the FIRST rule in file order with a matcher that accepts it
 * (firewall-style precedence, docs/policy.md). Later rules are never consulted, even when the first
 * match denies what a later one would allow, so a specific rule placed above a broad one narrows it.
 *
 * Returns `undefined` when no rule matches; callers must then deny (default deny).
 */
export function findRule(policy: Policy, workload: SpiffeId): RuleMatch | undefined {
  for (const rule of policy.rules) {
    const hit = rule.match.find((m) => m.match(workload).ok);
    if (hit) return { rule, matcher: hit.describe() };
  }
  return undefined;
}

/**
 * The roles `caller` holds under `policy` (operator, auditor, detector, resource_server), in that order. A caller may
 * hold several, or none. Role matchers are independent of workload rules.
 */
export function roleOf(policy: Policy, caller: SpiffeId): readonly Role[] {
  return Object.freeze(ROLES.filter((role) => policy.roles[role].some((m) => m.match(caller).ok)));
}

/** The outcome of {@link authorizeRole}. */
export type RoleDecision =
  | { readonly allowed: true; readonly role: Role; readonly matcher: string }
  | { readonly allowed: false; readonly code: 'BROKER_POLICY_DENIED'; readonly reason: string };

/**
 * Whether `caller` holds `role`. A refusal carries `BROKER_POLICY_DENIED`, the same code as every
 * other policy denial, so an operator endpoint tells an outsider nothing more than a workload one
 * (DESIGN invariant 5; EXAMPLES.md, Errors).
 */
export function authorizeRole(policy: Policy, caller: SpiffeId, role: Role): RoleDecision {
  const hit = policy.roles[role].find((m) => m.match(caller).ok);
  if (hit) return Object.freeze({ allowed: true, role, matcher: hit.describe() });
  return Object.freeze({
    allowed: false,
    code: 'BROKER_POLICY_DENIED',
    reason: `${caller} does not hold role ${role}`,
  });
}
