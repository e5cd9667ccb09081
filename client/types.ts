/**
 * The JSON of the broker's HTTP API, as it travels (snake_case names, RFC 3339 times, SPIFFE IDs as
 * strings). The client sends and returns these shapes unchanged, so what the API reference at
 * `/docs` says is what a caller of the client gets.
 *
 * @packageDocumentation
 */

/** A task's status (DESIGN.md "Concepts"). */
export type TaskStatus = 'active' | 'completed' | 'failed' | 'expired' | 'revoked';

/** A credential's status. */
export type CredentialStatus = 'active' | 'revoked' | 'expired' | 'revoke_failed';

/** One provider and the scopes a task declares it will need from it. */
export interface ManifestEntry {
  readonly provider: string;
  readonly scopes: readonly string[];
}

/** `POST /v1/tasks` body. */
export interface StartTaskRequest {
  readonly intent: { readonly name: string; readonly text?: string };
  readonly manifest: readonly ManifestEntry[];
  /** Requested task lifetime in seconds; the policy maximum applies. */
  readonly ttl_seconds?: number;
  /** The delegating task, for a sub-task. */
  readonly parent_task_id?: string;
}

/** A task (`GET /v1/tasks/:id`). */
export interface Task {
  readonly id: string;
  /** SPIFFE ID of the owning workload. */
  readonly workload: string;
  readonly intent: { readonly name: string; readonly text?: string };
  readonly manifest: readonly ManifestEntry[];
  readonly status: TaskStatus;
  readonly created_at: string;
  readonly deadline: string;
  readonly parent_task_id: string | null;
}

/** `GET /v1/tasks` filters (operators). */
export interface ListTasksQuery {
  readonly workload?: string;
  readonly status?: TaskStatus;
  readonly cursor?: string;
  readonly limit?: number;
}

/** A page of tasks, newest first. */
export interface TaskPage {
  readonly tasks: readonly Task[];
  readonly next_cursor: string | null;
}

/** `POST /v1/tasks/:id/credentials` body (the task is in the path). */
export interface IssueCredentialRequest {
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly ttl_seconds?: number;
}

/** A credential record: never its secret, handle or hash. */
export interface Credential {
  readonly id: string;
  readonly task_id: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly issued_at: string;
  readonly expires_at: string;
  readonly revocability: 'revocable' | 'expires-only';
  readonly status: CredentialStatus;
}

/** A credential released to its workload. `secret` is shown once: never log or store it. */
export interface IssuedCredential {
  readonly credential: Credential;
  readonly secret: string;
}

/** `GET /v1/credentials` filters (operators). */
export interface ListCredentialsQuery {
  readonly status?: CredentialStatus;
  readonly task_id?: string;
  readonly provider?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

/** A credential as operators list it: the record, when it was revoked, and its revocation queue row. */
export interface ListedCredential extends Credential {
  readonly revoked_at: string | null;
  readonly revocation: {
    readonly state: 'pending' | 'failed' | 'done';
    readonly attempts: number;
    readonly last_error: string | null;
    readonly next_attempt_at: string | null;
    readonly outcome: string | null;
  } | null;
}

/** A page of credentials, newest first. */
export interface CredentialPage {
  readonly credentials: readonly ListedCredential[];
  readonly next_cursor: string | null;
}

/** An RFC 7662 §2.2 answer: `{active: false}` and nothing else for a dead or unknown token. */
export interface Introspection {
  readonly active: boolean;
  readonly scope?: string;
  readonly client_id?: string;
  readonly token_type?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly iss?: string;
  readonly jti?: string;
  readonly task_id?: string;
}

/** `GET /v1/audit/events` filters (auditors). */
export interface AuditQuery {
  readonly workload?: string;
  readonly task_id?: string;
  readonly credential_id?: string;
  readonly provider?: string;
  /** Event types (e.g. `credential.issued`); any of them matches. */
  readonly type?: readonly string[];
  /** RFC 3339 lower bound (inclusive). */
  readonly from?: string;
  /** RFC 3339 upper bound. */
  readonly to?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

/** One ledger event; also the columns of the CSV export, in this order. */
export interface LedgerEvent {
  readonly seq: number;
  readonly occurred_at: string;
  readonly type: string;
  readonly workload: string | null;
  readonly task_id: string | null;
  readonly credential_id: string | null;
  readonly provider: string | null;
  readonly decision: string | null;
  readonly reason: string | null;
  readonly rule: string | null;
  readonly chain_pos: number | null;
  readonly hash: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A page of ledger events, oldest first. */
export interface AuditPage {
  readonly events: readonly LedgerEvent[];
  readonly next_cursor: string | null;
}

/** A page of the CSV export: RFC 4180 text with a header row, and the next page's cursor. */
export interface AuditCsvPage {
  readonly csv: string;
  readonly next_cursor: string | null;
}

/** `GET /v1/audit/verify`: the chain holds, or the first bad event and why. */
export type AuditVerification =
  | {
      readonly ok: true;
      readonly events: number;
      readonly sealed_through: number;
      readonly head_hash: string;
      readonly unsealed: number;
    }
  | {
      readonly ok: false;
      readonly events: number;
      readonly first_bad_seq: number;
      readonly kind: string;
      readonly reason: string;
    };

/** Tasks to revoke by their properties; every member given must hold. */
export interface RevocationSelector {
  /** A SPIFFE ID whose path is a prefix, segment-wise: `spiffe://td/agents` matches `…/agents/a`, not `…/agentsx`. */
  readonly spiffe_id_prefix?: string;
  /** A SPIFFE ID glob (`*` one segment, `**` any). */
  readonly spiffe_id_glob?: string;
  readonly trust_domain?: string;
  /** Tasks holding at least one active credential from this provider. */
  readonly provider?: string;
  /** RFC 3339: tasks started before this instant. */
  readonly started_before?: string;
}

/** What `POST /v1/revocations` targets: exactly one of these. */
export type RevocationTarget =
  | { readonly credential_id: string }
  | { readonly task_id: string }
  | { readonly workload: string }
  | { readonly selector: RevocationSelector };

/** `POST /v1/revocations` body: the target, why, and `confirm` for broad selectors. */
export type RevokeRequest = RevocationTarget & { readonly reason: string; readonly confirm?: boolean };

/** One credential a revocation touched, and what its backend did. */
export interface RevokedCredential {
  readonly id: string;
  readonly task_id: string;
  readonly provider: string;
  /** `not_revocable`: an expires-only credential, exposed until `expires_at`. */
  readonly outcome: 'revoked' | 'pending' | 'not_revocable';
  readonly expires_at: string;
}

/** The answer of a revocation. */
export interface RevocationResult {
  readonly revocation_id: string;
  readonly tasks: readonly string[];
  readonly credentials: readonly RevokedCredential[];
  readonly counts: { readonly revoked: number; readonly pending: number; readonly not_revocable: number };
  /** The latest expiry of the `not_revocable` credentials, if any. */
  readonly exposed_until: string | null;
}

/** `POST /v1/quarantines` and `…/lift` body. */
export interface QuarantineRequest {
  /** The workload's SPIFFE ID. */
  readonly workload: string;
  readonly reason: string;
}

/** A quarantined workload. */
export interface Quarantine {
  readonly workload: string;
  readonly reason: string;
  readonly since: string;
  /** An operator's SPIFFE ID, or `signal:<id>` for an anomaly response. */
  readonly by: string;
}

/** `POST /v1/revocations/retry` answer. */
export interface RetryResult {
  readonly requeued: number;
}

/** How bad a detector says things are. */
export type SignalSeverity = 'low' | 'medium' | 'high' | 'critical';

/** `POST /v1/signals` (detectors): a signal about exactly one task or one workload. */
export interface SignalRequest {
  /** 1..64 of `a-z 0-9 _ . -` (`broker.*` is reserved for the broker's own detectors). */
  readonly kind: string;
  readonly severity: SignalSeverity;
  readonly subject: { readonly task_id: string } | { readonly workload: string };
  /** 1..1024 characters. */
  readonly description?: string;
  /** Small JSON (4 KiB, 5 levels deep), recorded in the ledger; never a secret. */
  readonly evidence?: Readonly<Record<string, unknown>>;
  /** RFC 3339: when the detector saw it happen. */
  readonly occurred_at?: string;
}

/** The 202 answer to a signal or a SET: what the broker did, once done. */
export interface SignalAccepted {
  readonly signal_id: string;
  readonly kind: string;
  readonly severity: SignalSeverity;
  readonly response: 'revoke_task' | 'quarantine_workload' | 'record_only';
  /** The policy's `anomaly_responses` rule that chose the response, or `default`. */
  readonly rule: string;
  /** For `revoke_task` and `quarantine_workload`: what was revoked. */
  readonly revocation?: RevocationResult;
  /** For `quarantine_workload`. */
  readonly quarantine?: Quarantine;
}
