import type { Matcher } from '../../spiffe/matcher.js';
import type { AnomalyPolicy } from '../anomaly/anomaly-policy.js';

/** The schema version this broker reads (the policy file's `version` key). */
export const POLICY_SCHEMA_VERSION = 1;

/** The privileged callers a policy names, beside workloads (DESIGN.md, Users and their jobs). */
export type Role = 'operator' | 'auditor' | 'detector' | 'resource_server';

/** Every role, in a stable order. */
export const ROLES: readonly Role[] = Object.freeze(['operator', 'auditor', 'detector', 'resource_server']);

/** A token bucket: `perSecond` tokens refill each second, up to `burst` tokens banked. */
export interface IssuanceRate {
  readonly perSecond: number;
  readonly burst: number;
}

/** A rule's quotas, with the defaults of {@link DEFAULT_QUOTAS} filled in at load. */
export interface Quotas {
  /** Tasks a single workload may have active at once. */
  readonly activeTasks: number;
  /** Credentials a single task may mint over its life. */
  readonly credentialsPerTask: number;
  /** Issuance rate per workload, across all its tasks. */
  readonly issuanceRate: IssuanceRate;
}

/** Quotas applied when a rule leaves one out: finite, so an omission never means "unlimited". */
export const DEFAULT_QUOTAS: Quotas = Object.freeze({
  activeTasks: 10,
  credentialsPerTask: 100,
  issuanceRate: Object.freeze({ perSecond: 10, burst: 20 }),
});

/**
 * A scope pattern: an exact scope, or a prefix ending in `*` that matches every scope starting with
 * the prefix (`crm:*` matches `crm:read`). A bare `*` is not a pattern.
 */
export interface ScopePattern {
  readonly text: string;
  readonly prefix: boolean;
}

/** What a rule grants for one credential provider. */
export interface ProviderGrant {
  readonly scopes: readonly ScopePattern[];
  /** A tighter credential TTL cap for this provider; the rule's cap applies when absent. */
  readonly maxTtlSeconds: number | undefined;
}

/** One policy rule: who it matches and what they may do. */
export interface PolicyRule {
  /** Unique within the policy; every decision names the rule it was made by. */
  readonly name: string;
  /** Position in the file, from 0: the precedence order (first match wins). */
  readonly index: number;
  readonly description: string | undefined;
  /** Any one of these matching selects the rule. */
  readonly match: readonly Matcher[];
  readonly intents: readonly string[];
  /** Provider name → grant. A provider not listed is not granted. */
  readonly providers: Readonly<Record<string, ProviderGrant>>;
  readonly maxCredentialTtlSeconds: number;
  readonly maxTaskLifetimeSeconds: number;
  readonly quotas: Quotas;
  /** Recorded on decisions only; the approval flow is a later issue. */
  readonly requireApproval: boolean;
  /** Accept each JWT-SVID presented by a matching workload once only (by `jti` or hash). */
  readonly jwtSvidReplayProtection: boolean;
}

/**
 * A validated, deeply frozen policy (DESIGN.md, Concepts: Policy). Only `parsePolicy` produces one,
 * so holding a `Policy` proves the file passed every check.
 */
export interface Policy {
  /** The schema version, {@link POLICY_SCHEMA_VERSION}. */
  readonly version: number;
  /** The file's optional free-form `revision` label, for humans. */
  readonly revision: string | undefined;
  /** Hex sha256 of the exact source text: identifies the policy in the ledger and across replicas. */
  readonly sha256: string;
  /** Rules in file order. */
  readonly rules: readonly PolicyRule[];
  /** Role → the matchers of the callers holding it. */
  readonly roles: Readonly<Record<Role, readonly Matcher[]>>;
  /** The `anomaly_responses` section: responses to signals and the built-in detectors (docs/anomaly.md). */
  readonly anomaly: AnomalyPolicy;
}
