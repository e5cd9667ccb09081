import type { RevocationCheckRecord } from './revocation-confirmation-sql.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JsonObject, JsonValue } from '../ledger/canonical-json.js';
import type { CredentialRecord, Page, TaskRecord } from './issuance-store.js';

/** The revocation queue's states (migrations `…_revocation-queue-claims`). */
export type QueueState = 'pending' | 'failed' | 'done';

/** A queue row a worker claimed: the credential to revoke at its backend and the claim to complete. */
export interface ClaimedRevocation {
  readonly credentialId: string;
  readonly taskId: string;
  readonly provider: string;
  /** The adapter's handle as stored (never the secret). */
  readonly revocationHandle: JsonValue;
  readonly expiresAt: Date;
  /** Attempts so far, this one included. */
  readonly attempt: number;
  readonly state: Exclude<QueueState, 'done'>;
  /** The claim token: only its holder may complete the row. */
  readonly claimId: string;
}

/** What became of a failed attempt once recorded. */
export type FailureRecord =
  /** Scheduled for another attempt. */
  | 'retrying'
  /** The retry budget ran out now: the credential became `revoke_failed` (with its ledger event). */
  | 'revoke_failed'
  /** The row was no longer this claim's (lease ran out and another worker took it, or it expired). */
  | 'stale';

/** Which active tasks an operator revocation ends (every member given must hold). */
export interface TaskSelection {
  /** One task, whatever its status (its active descendants are still revoked). */
  readonly taskId?: string;
  readonly workload?: SpiffeId;
  /** A literal prefix of the workload's SPIFFE ID text (a prefilter for {@link accept}). */
  readonly workloadPrefix?: string;
  /** Tasks holding an active credential of this provider. */
  readonly provider?: string;
  /** Tasks created before this instant. */
  readonly startedBefore?: Date;
  /** The final say on each candidate's workload (segment-wise prefix, glob). */
  readonly accept?: (workload: SpiffeId) => boolean;
}

/** One credential of a revocation and what the transaction did with it. */
export interface CredentialDisposition {
  readonly credential: CredentialRecord;
  /**
   * `queued`: in the durable queue for its backend; `not_revocable`: expires-only, exposed until its
   * expiry; `revoked` / `expired`: already final, nothing to do.
   */
  readonly disposition: 'queued' | 'not_revocable' | 'revoked' | 'expired';
}

/** Who asked for a revocation, why, and the id that links its ledger events. */
export interface RevocationRequest {
  readonly revocationId: string;
  readonly reason: string;
  /** An operator's SPIFFE ID, or `signal:<id>` for an anomaly response. */
  readonly by: string;
  readonly now: Date;
  /** Written as the `revocation.requested` event's `details.target` (absent: no such event). */
  readonly target?: JsonObject;
  /** The policy matcher that allowed the request, for the ledger. */
  readonly rule?: string;
}

/** What an operator revocation changed, committed with its ledger events. */
export interface RevokedTasks {
  /** Tasks moved to `revoked` (descendants included), oldest first. */
  readonly tasks: readonly TaskRecord[];
  readonly credentials: readonly CredentialDisposition[];
}

/** A quarantine as stored. */
export interface QuarantineRecord {
  readonly id: string;
  readonly workload: SpiffeId;
  readonly reason: string;
  readonly by: string;
  readonly since: Date;
  readonly liftedAt: Date | null;
}

/** A credential's row in the revocation queue, for operators. */
export interface QueueEntry {
  readonly state: QueueState;
  readonly attempts: number;
  /** A catalog code, never a message (no secret can reach it). */
  readonly lastError: string | null;
  /** When it is tried next (`null` once done). */
  readonly nextAttemptAt: Date | null;
  readonly outcome: 'revoked' | 'expired' | null;
}

/** A credential as operators list it. */
export interface CredentialListing extends CredentialRecord {
  readonly revocation: QueueEntry | null;
}

/** Filters of {@link RevocationStore.listCredentials}; newest first. */
export interface CredentialFilter {
  readonly status?: CredentialRecord['status'];
  readonly taskId?: string;
  readonly provider?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

/** Gauges for `/metrics`. */
export interface QueueStats {
  readonly pending: number;
  /** Rows whose retry budget is spent (their credentials are `revoke_failed` until they succeed). */
  readonly failed: number;
  readonly revokeFailedCredentials: number;
}

/**
 * The revocation engine's durable state (ISSUE 4): the queue, operator revocations, quarantines and
 * credential expiry. As in the {@link IssuanceStore}, every state change commits in one transaction
 * with the ledger events that record it; every method throws `BROKER_STORE_UNAVAILABLE` /
 * `BROKER_STORE_QUERY_FAILED` as that store does.
 */
export interface RevocationStore {
  /**
   * Claims up to `limit` due queue rows (`FOR UPDATE SKIP LOCKED`, so concurrent workers on any
   * replica get disjoint rows) and leases them until `leaseUntil`: a claim its worker never
   * completes (crash) becomes due again then. Restricted to `credentialIds` when given.
   */
  claimDue(input: {
    now: Date;
    leaseUntil: Date;
    limit: number;
    claimId: string;
    credentialIds?: readonly string[];
  }): Promise<ClaimedRevocation[]>;
  /**
   * Completes a claimed row after the backend revoked: the row is `done`, the credential `revoked`
   * with its `credential.revoked` event. Returns false (nothing changed) when the claim is stale.
   */
  completeRevoked(input: { credentialId: string; claimId: string; now: Date }): Promise<boolean>;
  /**
   * Records what the backend's `verifyRevoked` said about a revoked credential: a
   * `credential.revocation_verified` event, and `revocation_confirmed_at` when confirmed.
   */
  recordRevocationCheck(input: RevocationCheckRecord): Promise<boolean>;
  /**
   * Records a failed attempt: `error` (a catalog code) and the next attempt at `retryAt`. With
   * `exhausted` the row moves to `failed` and an `active` credential to `revoke_failed` (one
   * `credential.revoke_failed` event); it stays queued.
   */
  recordFailure(input: {
    credentialId: string;
    claimId: string;
    now: Date;
    error: string;
    retryAt: Date;
    exhausted: boolean;
  }): Promise<FailureRecord>;
  /**
   * Ends the selected active tasks and their active descendants as `revoked` (`task.revoked` each,
   * and `revocation.requested` when `request.target` is set) and queues their revocable credentials.
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND` for a `taskId` that does not exist.
   */
  revokeTasks(selection: TaskSelection, request: RevocationRequest): Promise<RevokedTasks>;
  /**
   * Queues one credential (its task stays as it is), with a `revocation.requested` event.
   *
   * @throws {BrokerError} `BROKER_CREDENTIAL_NOT_FOUND`.
   */
  revokeCredential(credentialId: string, request: RevocationRequest): Promise<CredentialDisposition>;
  /**
   * Puts `workload` in quarantine (`workload.quarantined`) and revokes its tasks, atomically with
   * respect to task starts (see `quarantine-sql.ts`). Already quarantined: the quarantine in force is
   * returned with `created: false` and its tasks are revoked again (none can be active).
   */
  quarantine(input: { id: string; workload: SpiffeId } & RevocationRequest): Promise<{
    readonly quarantine: QuarantineRecord;
    readonly created: boolean;
    readonly revoked: RevokedTasks;
  }>;
  /** Lifts the quarantine in force (`workload.quarantine_lifted`); undefined when there is none. */
  liftQuarantine(input: {
    workload: SpiffeId;
    reason: string;
    by: string;
    now: Date;
  }): Promise<QuarantineRecord | undefined>;
  /** Quarantines in force, oldest first. */
  listQuarantines(): Promise<QuarantineRecord[]>;
  isQuarantined(workload: SpiffeId): Promise<boolean>;
  /** @throws {BrokerError} `BROKER_LEDGER_BAD_CURSOR`, `BROKER_INPUT_INVALID` (limit). */
  listCredentials(filter: CredentialFilter): Promise<Page<CredentialListing>>;
  /**
   * Makes `failed` rows (one credential's, or all) due at `now` unless a worker holds them.
   *
   * @throws {BrokerError} `BROKER_CREDENTIAL_NOT_FOUND` for a credential that does not exist.
   */
  requeueFailed(input: { credentialId?: string; now: Date }): Promise<string[]>;
  /**
   * Marks up to `limit` live credentials whose expiry is at or before `now` as `expired` (through the
   * partial expiry index, `FOR UPDATE SKIP LOCKED`), closes their queue rows with outcome `expired`,
   * and writes ONE `credential.expired` event for the batch. Returns the expired ids.
   */
  expireDueCredentials(input: { now: Date; limit: number }): Promise<string[]>;
  queueStats(): Promise<QueueStats>;
}
