import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Credential, Revocability } from '../domain/credential.js';
import type { ManifestEntry, Task, TaskStatus } from '../domain/task.js';
import type { JsonObject, JsonValue } from '../ledger/canonical-json.js';

export type { CredentialStatus, Revocability } from '../domain/credential.js';
export type { ManifestEntry, TaskStatus } from '../domain/task.js';

/** The states a task can end in. */
export type EndedTaskStatus = Exclude<TaskStatus, 'active'>;

/** Every kind of ledger event. */
export type LedgerEventType =
  | 'task.started'
  | 'task.denied'
  | 'task.completed'
  | 'task.failed'
  | 'task.expired'
  | 'task.revoked'
  | 'credential.issued'
  | 'credential.denied'
  | 'credential.revoked'
  | 'credential.revoke_failed'
  | 'signal.received'
  | 'signal.responded'
  | 'workload.quarantined'
  | 'workload.quarantine_lifted'
  | 'revocation.requested'
  | 'credential.expired'
  | 'credential.revocation_verified'
  | 'policy.reloaded';

/** A stored task: the domain {@link Task} plus when and why it ended. */
export interface TaskRecord extends Task {
  readonly endedAt: Date | null;
  readonly endReason: string | null;
  /** Credentials ever issued for the task (the credentials-per-task quota; checked again at commit). */
  readonly credentialsIssued: number;
}

/** A stored credential: the domain {@link Credential} plus what the store keeps. Never the secret. */
export interface CredentialRecord extends Credential {
  readonly ttlSeconds: number;
  /** The adapter's handle (accessor, lease id, token id); never contains the secret. */
  readonly revocationHandle: JsonValue;
  /** Lower-case hex SHA-256 of the credential value (for introspection). */
  readonly secretHash: string;
  readonly revokedAt: Date | null;
}

/** A ledger event to append (times are JavaScript dates, so millisecond precision, as the column requires). */
export interface LedgerEventInput {
  readonly type: LedgerEventType;
  readonly occurredAt: Date;
  readonly workload?: SpiffeId | null;
  readonly taskId?: string | null;
  readonly credentialId?: string | null;
  readonly provider?: string | null;
  readonly decision?: 'allow' | 'deny' | null;
  readonly reason?: string | null;
  /** The policy rule that decided, for explainability. */
  readonly rule?: string | null;
  readonly details?: JsonObject;
}

/** A committed ledger event. `seq` orders events by insertion; `chainPos` is set once sealed. */
export interface LedgerEvent extends Required<Omit<LedgerEventInput, 'details'>> {
  readonly seq: number;
  readonly details: JsonObject;
  readonly chainPos: number | null;
  readonly hash: string | null;
}

/** A page of results and the opaque cursor of the next page (null on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** A task to open. Ids come from the caller's id source. */
export interface NewTask {
  readonly id: string;
  readonly workload: SpiffeId;
  readonly intent: { readonly name: string; readonly text?: string };
  readonly manifest: readonly ManifestEntry[];
  readonly deadline: Date;
  readonly parent?: string | null;
  readonly now: Date;
  /** Refuse when the workload already has this many active tasks (checked atomically). */
  readonly maxActiveTasks?: number;
  /** The policy rule that allowed it, recorded on the `task.started` event. */
  readonly rule?: string;
}

/** A task that ended, and the credentials it still had active (to revoke in their backends). */
export interface EndedTask {
  readonly task: TaskRecord;
  readonly activeCredentials: readonly CredentialRecord[];
}

/** A credential the broker minted, to record before releasing it. */
export interface NewIssuance {
  readonly id: string;
  readonly taskId: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  readonly expiresAt: Date;
  readonly revocationHandle: JsonValue;
  readonly secretHash: string;
  readonly revocability: Revocability;
  readonly now: Date;
  /** Set when the backend's minimum lifetime was rounded up to (recorded in the ledger event). */
  readonly ttlRoundedUp?: { readonly requestedSeconds: number; readonly minimumSeconds: number };
  /** Refuse when the task already has this many credentials (checked atomically). */
  readonly maxCredentialsPerTask?: number;
  readonly rule?: string;
  readonly reason?: string;
}

/** Filters of {@link IssuanceStore.listTasks}; newest first. */
export interface TaskFilter {
  readonly workload?: SpiffeId;
  readonly status?: TaskStatus;
  readonly cursor?: string;
  /** 1..1000, default 100. */
  readonly limit?: number;
}

/** Filters of {@link IssuanceStore.queryEvents}; oldest first (by `seq`). */
export interface AuditQuery {
  readonly workload?: SpiffeId;
  readonly taskId?: string;
  readonly credentialId?: string;
  readonly provider?: string;
  readonly types?: readonly LedgerEventType[];
  /** Inclusive lower bound on `occurredAt`. */
  readonly from?: Date;
  /** Exclusive upper bound on `occurredAt`. */
  readonly to?: Date;
  readonly cursor?: string;
  /** 1..1000, default 100. */
  readonly limit?: number;
}

/**
 * The broker's durable state: tasks, credentials and the ledger (DESIGN.md "Ledger"). Every state
 * change is committed in ONE transaction with the ledger event that records it, so there is never
 * an event without its change or a change without its event. Every method throws
 * `BROKER_STORE_UNAVAILABLE` when the database cannot be reached (fail closed: DESIGN.md invariant 1)
 * and `BROKER_STORE_QUERY_FAILED` for an unexpected database error; both roll back everything.
 */
export interface IssuanceStore {
  /**
   * Opens a task and appends `task.started`.
   *
   * @throws {BrokerError} `BROKER_STORE_CONFLICT` (id taken), `BROKER_POLICY_QUOTA_EXCEEDED` (active
   *   tasks), `BROKER_TASK_NOT_FOUND` / `BROKER_TASK_ALREADY_ENDED` (parent task).
   */
  createTask(task: NewTask): Promise<TaskRecord>;
  /** The task, or undefined. */
  getTask(id: string): Promise<TaskRecord | undefined>;
  /** @throws {BrokerError} `BROKER_LEDGER_BAD_CURSOR`. */
  listTasks(filter: TaskFilter): Promise<Page<TaskRecord>>;
  /**
   * Ends an active task (`task.<status>` event) and returns its active credentials, read after the
   * status change under the task's row lock, so no issuance can slip in unseen.
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND` (also when `workload` does not own it),
   *   `BROKER_TASK_ALREADY_ENDED`.
   */
  endTask(input: {
    id: string;
    status: EndedTaskStatus;
    reason: string;
    now: Date;
    workload?: SpiffeId;
  }): Promise<EndedTask>;
  /**
   * Expires up to `limit` active tasks whose deadline is at or before `now` (`task.expired` each).
   * Rows are claimed with `FOR UPDATE SKIP LOCKED`: concurrent sweeps on several replicas never
   * process a task twice.
   */
  expireDueTasks(input: { now: Date; limit: number }): Promise<EndedTask[]>;
  /**
   * Records a minted credential and its `credential.issued` event. When this resolves, the issuance
   * is durably committed and the credential may be released; when it throws, it must not be.
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND`, `BROKER_TASK_ALREADY_ENDED` (ended or past
   *   its deadline), `BROKER_POLICY_QUOTA_EXCEEDED`, `BROKER_STORE_CONFLICT` (id or secret hash taken).
   */
  recordIssuance(issuance: NewIssuance): Promise<CredentialRecord>;
  /** Appends a denial (`decision: 'deny'`), e.g. `credential.denied` or `task.denied`. */
  recordDenial(event: LedgerEventInput & { type: 'credential.denied' | 'task.denied' }): Promise<LedgerEvent>;
  /** The credential whose secret hashes to `secretHash`, or undefined (introspection). */
  findCredentialBySecretHash(secretHash: string): Promise<CredentialRecord | undefined>;
  /**
   * Moves credentials to `revoked` (with `revoked_at`) or `revoke_failed`, one event each; rows that
   * are already in that state or revoked are left alone. Returns the ids that changed.
   */
  markCredentials(input: {
    ids: readonly string[];
    outcome: 'revoked' | 'revoke_failed';
    reason: string;
    now: Date;
  }): Promise<string[]>;
  /** Active tasks of `workload` whose deadline is after `now` (the active-tasks quota). */
  countActiveTasks(workload: SpiffeId, now: Date): Promise<number>;
  /** Credentials ever issued for the task (the credentials-per-task quota). */
  countCredentials(taskId: string): Promise<number>;
  /** Appends events that record no state change of their own (signals, quarantines). */
  appendEvents(events: readonly LedgerEventInput[]): Promise<LedgerEvent[]>;
  /** Records a loaded policy file and its `policy.reloaded` event; returns the new version. */
  recordPolicyVersion(input: { sha256: string; source: string; now: Date }): Promise<number>;
  /** @throws {BrokerError} `BROKER_LEDGER_BAD_CURSOR`. */
  queryEvents(query: AuditQuery): Promise<Page<LedgerEvent>>;
}
