import { BrokerError } from '../errors.js';

/** The kinds of problem a policy file can have; tests and tools branch on these, not on messages. */
export type PolicyIssueKind =
  | 'syntax'
  | 'type'
  | 'required'
  | 'unknown_key'
  | 'bad_version'
  | 'bad_name'
  | 'duplicate'
  | 'bad_matcher'
  | 'bad_duration'
  | 'bad_scope'
  | 'bad_number'
  | 'empty'
  | 'bad_value'
  | 'bad_kind';

/** One problem in a policy file, with its location. */
export interface PolicyIssue {
  /** Where: `rules[2].providers.crm-api.scopes[0]`, or `$` for the whole document. */
  readonly path: string;
  readonly kind: PolicyIssueKind;
  readonly message: string;
  /** 1-based line and column in the source, when known. */
  readonly line?: number;
  readonly column?: number;
}

/** Renders one issue as `path (line L:C): message`. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const at = issue.line === undefined ? '' : ` (line ${issue.line}:${issue.column ?? 1})`;
  return `${issue.path}${at}: ${issue.message}`;
}

/**
 * A policy that failed validation: `BROKER_POLICY_INVALID` carrying EVERY problem found, each with its
 * location (DESIGN.md, Concepts: Policy: "validated at start with every error listed").
 */
export class PolicyInvalidError extends BrokerError {
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    super(
      'BROKER_POLICY_INVALID',
      `${issues.length} problem(s): ${issues.map(formatPolicyIssue).join('; ')}`,
    );
    this.issues = Object.freeze([...issues]);
  }
}
