import { BrokerError } from '../errors.js';

/** One of the four bounds of DESIGN invariant 2. */
export type TtlBound = 'requested' | 'policy' | 'task' | 'svid';

/** The inputs of {@link credentialTtlSeconds}. Durations are whole seconds; instants are `Date`s. */
export interface CredentialTtlInput {
  /** The TTL the caller asked for, if any. */
  readonly requested?: number | undefined;
  /** The policy maximum for this workload and provider. */
  readonly policyMax: number;
  /** The task's deadline. */
  readonly taskDeadline: Date;
  /** The expiry of the SVID that authenticated the caller. */
  readonly svidExpiresAt: Date;
  readonly now: Date;
  /** The shortest TTL worth issuing; 1 s unless given. */
  readonly minimum?: number;
}

/** The outcome of {@link credentialTtlSeconds}: the TTL, its expiry, and why it is what it is. */
export interface CredentialTtl {
  readonly ttlSeconds: number;
  readonly expiresAt: Date;
  /** Every bound equal to the result (several on a tie), in the order requested, policy, task, svid. */
  readonly boundBy: readonly TtlBound[];
  /** Each bound's value in seconds; `requested` is absent when the caller asked for none. */
  readonly bounds: Readonly<Partial<Record<TtlBound, number>>>;
  /** A one-line explanation for the ledger, e.g. `ttl 120s bounded by task (requested 300s, ...)`. */
  readonly explanation: string;
}

function isPositiveWholeSeconds(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

/** Whole seconds from `now` to `until`, rounded down so a bound is never exceeded. */
function remainingSeconds(until: Date, now: Date): number {
  return Math.floor((until.getTime() - now.getTime()) / 1000);
}

function checkInputs(input: CredentialTtlInput): void {
  if (input.requested !== undefined && !isPositiveWholeSeconds(input.requested)) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'requested ttl must be a positive whole number of seconds');
  }
  if (!isPositiveWholeSeconds(input.policyMax)) {
    throw new BrokerError('BROKER_INTERNAL', 'policy maximum ttl must be a positive whole number of seconds');
  }
  // Expired inputs get their own codes before the minimum check, so the caller learns which one died.
  if (input.svidExpiresAt.getTime() <= input.now.getTime()) {
    throw new BrokerError('BROKER_ISSUANCE_SVID_EXPIRED');
  }
  if (input.taskDeadline.getTime() <= input.now.getTime()) {
    throw new BrokerError('BROKER_ISSUANCE_TASK_EXPIRED');
  }
}

/**
 * THE credential lifetime rule, DESIGN invariant 2: a credential's TTL is the minimum of the request,
 * the policy maximum, the task's remaining lifetime and the remaining lifetime of the SVID that
 * authenticated the caller (as SPIRE caps an SVID at its CA's expiry). Every issuance path calls this
 * function and no other.
 *
 * Remaining lifetimes are rounded down to whole seconds, so the expiry never passes the task deadline
 * or the SVID expiry.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` for a requested TTL that is not a positive whole number
 * of seconds; `BROKER_INTERNAL` for a bad policy maximum; `BROKER_ISSUANCE_SVID_EXPIRED` or
 * `BROKER_ISSUANCE_TASK_EXPIRED` when that bound is already in the past; `BROKER_ISSUANCE_TTL_TOO_SHORT`
 * when the result is below `minimum` (default 1 s).
 */
export function credentialTtlSeconds(input: CredentialTtlInput): CredentialTtl {
  checkInputs(input);
  const bounds: Partial<Record<TtlBound, number>> = {};
  if (input.requested !== undefined) bounds.requested = input.requested;
  bounds.policy = input.policyMax;
  bounds.task = remainingSeconds(input.taskDeadline, input.now);
  bounds.svid = remainingSeconds(input.svidExpiresAt, input.now);
  const order: TtlBound[] = ['requested', 'policy', 'task', 'svid'];
  const present = order.filter((b) => bounds[b] !== undefined);
  const ttlSeconds = Math.min(...present.map((b) => bounds[b]!));
  const boundBy = present.filter((b) => bounds[b] === ttlSeconds);
  const detail = present.map((b) => `${b} ${bounds[b]}s`).join(', ');
  const explanation = `ttl ${ttlSeconds}s bounded by ${boundBy.join(' and ')} (${detail})`;
  const minimum = input.minimum ?? 1;
  if (ttlSeconds < minimum) {
    throw new BrokerError('BROKER_ISSUANCE_TTL_TOO_SHORT', `${explanation}; minimum ${minimum}s`);
  }
  return Object.freeze({
    ttlSeconds,
    expiresAt: new Date(input.now.getTime() + ttlSeconds * 1000),
    boundBy: Object.freeze(boundBy),
    bounds: Object.freeze(bounds),
    explanation,
  });
}
