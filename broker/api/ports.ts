/**
 * The narrow ports the HTTP layer depends on. The broker's services implement them (wired in
 * `broker/app.ts`); the HTTP plugins only validate input, call one port method and map the result.
 *
 * Every method that acts for a caller receives the authenticated {@link Caller} and does its own
 * authorization (owner of the task, operator, auditor, resource server). Refusals are thrown as
 * `BrokerError` / `SpiffeError` with catalog codes; the HTTP layer maps codes to statuses in one table.
 *
 * @packageDocumentation
 */
import type { TaskTokenJwks } from '../../adapters/jwt/signing-keys.js';
import type { Certificate } from '../../spiffe/bundle.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Credential } from '../domain/credential.js';
import type { ManifestEntry, Task, TaskStatus } from '../domain/task.js';
import type { ChainBroken, ChainOk } from '../ledger/hash-chain.js';
import type { AuditQuery, LedgerEvent, Page } from '../store/issuance-store.js';

/** How a caller proved its identity: an X509-SVID over mTLS, or a JWT-SVID bearer token. */
export type AuthMethod = 'x509-svid' | 'jwt-svid';

/** An authenticated caller. */
export interface Caller {
  readonly id: SpiffeId;
  readonly via: AuthMethod;
  /** The authenticating SVID's expiry: caps credential lifetimes (DESIGN.md invariant 2). */
  readonly svidExpiresAt: Date;
}

/**
 * What a request carries to prove identity. The HTTP layer sets exactly one member: `bearer` when
 * the request has `Authorization: Bearer …` (RFC 6750 §2.1), otherwise `peerCertificates` when the
 * TLS peer presented a chain. A presented chain has NOT been verified by TLS (see `tls.ts`): the
 * authenticator must verify it fully as an X509-SVID (X509-SVID spec §5).
 */
export interface AuthFacts {
  /** The JWT-SVID of the `Authorization` header. A bearer secret: never log it. */
  readonly bearer?: string;
  /** The TLS peer chain, leaf first, as presented. */
  readonly peerCertificates?: readonly Certificate[];
}

/**
 * Authenticates a request.
 *
 * @throws {SpiffeError} `SPIFFE_JWT_*`, `SPIFFE_X509_*`, `SPIFFE_BUNDLE_NOT_FOUND` for a bad SVID;
 * {@link BrokerError} for anything else the broker refuses (e.g. replayed token).
 */
export type Authenticate = (facts: AuthFacts) => Promise<Caller>;

/** `POST /v1/tasks`. */
export interface StartTaskInput {
  readonly intent: { readonly name: string; readonly text?: string };
  readonly manifest: readonly ManifestEntry[];
  /** Requested task lifetime; the policy maximum applies. */
  readonly ttlSeconds?: number;
  /** The delegating task, for a sub-task. */
  readonly parentTaskId?: string;
}

/** `GET /v1/tasks` (operators); newest first. */
export interface TaskListFilter {
  readonly workload?: SpiffeId;
  readonly status?: TaskStatus;
  readonly cursor?: string;
  readonly limit?: number;
}

/** Tasks, for their owning workload and for operators. */
export interface TaskPort {
  /** @throws {BrokerError} `BROKER_POLICY_*`, `BROKER_TASK_*`, `BROKER_STORE_*`. */
  start(caller: Caller, input: StartTaskInput): Promise<Task>;
  /** @throws {BrokerError} `BROKER_TASK_NOT_FOUND` also for another workload's task. */
  get(caller: Caller, id: string): Promise<Task>;
  /** Ends the task and revokes its credentials. @throws {BrokerError} `BROKER_TASK_*`. */
  complete(caller: Caller, id: string): Promise<Task>;
  /** Ends the task as failed and revokes its credentials. @throws {BrokerError} `BROKER_TASK_*`. */
  fail(caller: Caller, id: string, reason?: string): Promise<Task>;
  /** @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller is an operator. */
  list(caller: Caller, filter: TaskListFilter): Promise<Page<Task>>;
}

/** `POST /v1/tasks/:id/credentials`. */
export interface IssueCredentialInput {
  readonly taskId: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly ttlSeconds?: number;
}

/** A credential released to its workload: the record plus the secret, shown once. */
export interface IssuedCredentialView {
  readonly credential: Credential;
  /** The credential value. Never logged, never stored. */
  readonly secret: string;
}

/** Credential issuance (fail closed: resolves only after the issuance event is committed). */
export interface CredentialPort {
  /** @throws {BrokerError} `BROKER_TASK_*`, `BROKER_POLICY_*`, `BROKER_ISSUANCE_*`, `BROKER_ADAPTER_*`, `BROKER_STORE_*`. */
  issue(caller: Caller, input: IssueCredentialInput): Promise<IssuedCredentialView>;
}

/** An RFC 8693 §2.1 token exchange request, as received (the port interprets resource/audience). */
export interface TokenExchangeInput {
  /** The JWT-SVID that authenticates the client (RFC 8693 §2.1 `subject_token`). */
  readonly subjectToken: string;
  readonly subjectTokenType: string;
  /** `resource` values (RFC 8693 §2.1, RFC 8707), e.g. the task. */
  readonly resources: readonly string[];
  /** `audience` values (RFC 8693 §2.1), e.g. the provider. */
  readonly audiences: readonly string[];
  /** `scope` split on spaces (RFC 6749 §3.3). */
  readonly scopes: readonly string[];
  readonly requestedTokenType?: string;
}

/** An RFC 8693 §2.2.1 response, before serialization. */
export interface TokenExchangeResult {
  readonly accessToken: string;
  readonly issuedTokenType: string;
  /** `Bearer` for a task token (RFC 6750), `N_A` otherwise. */
  readonly tokenType: 'Bearer' | 'N_A';
  readonly expiresInSeconds: number;
  readonly scopes: readonly string[];
}

/** OAuth 2.0 Token Exchange (RFC 8693): the client is authenticated by its subject token. */
export interface TokenExchangePort {
  /** @throws {SpiffeError} for a bad subject token; {@link BrokerError} as {@link CredentialPort.issue}. */
  exchange(input: TokenExchangeInput): Promise<TokenExchangeResult>;
}

/** RFC 7662 §2.2: an inactive token says nothing else. */
export interface InactiveToken {
  readonly active: false;
}

/** RFC 7662 §2.2 members of an active task token, plus `task_id`. */
export interface ActiveToken {
  readonly active: true;
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

/** An RFC 7662 §2.2 introspection response. */
export type IntrospectionResponse = InactiveToken | ActiveToken;

/** Token introspection (RFC 7662) for resource servers and operators. */
export interface IntrospectionPort {
  /**
   * Revoked, expired, unknown and malformed tokens are `{active: false}`, never an error.
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller is a resource server or operator.
   */
  introspect(
    caller: Caller,
    input: { token: string; tokenTypeHint?: string },
  ): Promise<IntrospectionResponse>;
}

/** Ledger queries and chain verification for auditors. */
export interface AuditPort {
  /** Oldest first. @throws {BrokerError} `BROKER_POLICY_DENIED`, `BROKER_LEDGER_BAD_CURSOR`. */
  query(caller: Caller, query: AuditQuery): Promise<Page<LedgerEvent>>;
  /** @throws {BrokerError} `BROKER_POLICY_DENIED`, `BROKER_STORE_*`. */
  verify(caller: Caller): Promise<ChainOk | ChainBroken>;
}

/**
 * What a revocation targets: exactly one of a credential, a task (cascading to its child tasks), a
 * workload's tasks, or a selector (ISSUE 4, "Revoke anything"). HTTP body of `POST /v1/revocations`:
 * `{"credential_id"}` | `{"task_id"}` | `{"workload"}` | `{"selector": {...}}`, plus `reason` and
 * `confirm`.
 */
export type RevocationTarget =
  | { readonly kind: 'credential'; readonly credentialId: string }
  | { readonly kind: 'task'; readonly taskId: string }
  | { readonly kind: 'workload'; readonly workload: SpiffeId }
  | { readonly kind: 'selector'; readonly selector: RevocationSelector };

/**
 * Tasks to revoke by their properties; every member given must hold (AND). JSON names:
 * `spiffe_id_prefix`, `spiffe_id_glob`, `trust_domain`, `provider`, `started_before` (RFC 3339).
 * An empty selector, or one matching every workload of a trust domain, is refused unless
 * `confirm: true` (`BROKER_REVOCATION_CONFIRM_REQUIRED`).
 */
export interface RevocationSelector {
  /** A SPIFFE ID path prefix, `spiffe://td/agents/` (segment-wise, as the matcher does). */
  readonly spiffeIdPrefix?: string;
  /** A SPIFFE ID glob (`*` one segment, `**` any). */
  readonly spiffeIdGlob?: string;
  readonly trustDomain?: string;
  /** Tasks holding at least one active credential from this provider. */
  readonly provider?: string;
  readonly startedBefore?: Date;
}

/** `POST /v1/revocations` (operators). */
export interface RevokeInput {
  readonly target: RevocationTarget;
  /** Why, for the ledger; 1..1024 characters. */
  readonly reason: string;
  /** Required for broad selectors. */
  readonly confirm?: boolean;
}

/** One credential a revocation touched, and what became of it at its backend. */
export interface RevokedCredentialView {
  readonly id: string;
  readonly taskId: string;
  readonly provider: string;
  /**
   * `revoked`: killed at the backend now; `pending`: queued for (re)try in the durable queue;
   * `not_revocable`: an expires-only credential, exposed until `expiresAt`.
   */
  readonly outcome: 'revoked' | 'pending' | 'not_revocable';
  readonly expiresAt: Date;
}

/** The answer of a revocation: what ended and what each backend did. */
export interface RevocationResult {
  /** The ledger-linked id of this revocation (uuid). */
  readonly revocationId: string;
  /** Tasks moved to `revoked` by this call. */
  readonly tasks: readonly string[];
  readonly credentials: readonly RevokedCredentialView[];
  /** Counts of `credentials` by outcome (each credential names its provider). */
  readonly counts: {
    readonly revoked: number;
    readonly pending: number;
    readonly notRevocable: number;
  };
  /** For `not_revocable` credentials: the latest expiry (the remaining exposure ends then). */
  readonly exposedUntil: Date | null;
}

/** A quarantined workload. */
export interface QuarantineView {
  readonly workload: SpiffeId;
  readonly reason: string;
  readonly since: Date;
  /** Who quarantined it (an operator's SPIFFE ID, or `signal:<id>` for an anomaly response). */
  readonly by: string;
}

/** A credential's row in the durable revocation queue, for operators. */
export interface RevocationQueueView {
  /** `pending`: retrying with backoff; `failed`: retry budget spent (`revoke_failed`), still retried; `done`. */
  readonly state: 'pending' | 'failed' | 'done';
  readonly attempts: number;
  /** The catalog code of the last failed attempt (never a message). */
  readonly lastError: string | null;
  /** When the next attempt is due (`null` once done). */
  readonly nextAttemptAt: Date | null;
  /** How a `done` row ended: revoked at its backend, or closed because the credential expired. */
  readonly outcome: 'revoked' | 'expired' | null;
}

/** A credential as operators list it (`GET /v1/credentials`): the record plus its revocation state. */
export interface CredentialListItem extends Credential {
  readonly revokedAt?: Date | null;
  /** Absent or null when no revocation was ever queued for it. */
  readonly revocation?: RevocationQueueView | null;
}

/** Operator revocation, quarantine and the revoke_failed retry (ISSUE 4). */
export interface RevocationPort {
  /**
   * Revokes the target now: tasks move to `revoked`, their credentials are revoked at their backends
   * (or queued durably), all in the ledger, before this resolves.
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller is an operator;
   *   `BROKER_TASK_NOT_FOUND` / `BROKER_CREDENTIAL_NOT_FOUND`; `BROKER_REVOCATION_CONFIRM_REQUIRED`.
   */
  revoke(caller: Caller, input: RevokeInput): Promise<RevocationResult>;
  /** Quarantines a workload (its tasks revoked) (`POST /v1/quarantines`). */
  quarantine(
    caller: Caller,
    input: { workload: SpiffeId; reason: string },
  ): Promise<QuarantineView & { readonly revocation: RevocationResult }>;
  /** Lifts a quarantine (`POST /v1/quarantines/lift`). @throws {BrokerError} `BROKER_QUARANTINE_NOT_FOUND`. */
  lift(caller: Caller, input: { workload: SpiffeId; reason: string }): Promise<void>;
  /** Active quarantines (`GET /v1/quarantines`). */
  quarantines(caller: Caller): Promise<readonly QuarantineView[]>;
  /**
   * Credentials for operators (`GET /v1/credentials`), e.g. `status=revoke_failed`; newest first.
   */
  credentials(
    caller: Caller,
    filter: {
      status?: Credential['status'];
      taskId?: string;
      provider?: string;
      cursor?: string;
      limit?: number;
    },
  ): Promise<Page<CredentialListItem>>;
  /**
   * Puts `revoke_failed` credentials (one, or all when `credentialId` is absent) back in the queue
   * for an immediate retry (`POST /v1/revocations/retry`); returns how many were requeued.
   */
  retryFailed(caller: Caller, input: { credentialId?: string }): Promise<{ readonly requeued: number }>;
}

/**
 * One revocation-relevant ledger event as the feed delivers it (`GET /v1/revocations/stream`, gRPC
 * `WatchRevocations`). `seq` is the ledger sequence (a decimal string: bigint), strictly increasing,
 * and the resume point (`Last-Event-ID`). `jti` is set for credentials of a jwt provider.
 */
export interface RevocationFeedEvent {
  readonly seq: string;
  /** `credential.revoked`, `credential.revoke_failed`, `task.completed`, `task.failed`, `task.expired`, `task.revoked` or `workload.quarantined`. */
  readonly type: string;
  /** RFC 3339. */
  readonly occurred_at: string;
  readonly task_id: string | null;
  readonly credential_id: string | null;
  readonly workload: string | null;
  readonly provider: string | null;
  readonly jti: string | null;
  /**
   * RFC 3339; after it the event no longer matters (every token it concerns has expired): the
   * credential's expiry, or the task's deadline. Null for `workload.quarantined`. (Optional in the
   * type so that producers written before it was added still compile; the feed always sets it.)
   */
  readonly expires_at?: string | null;
}

/** The revocation push feed for resource servers (ISSUE 4, "Everywhere, fast"). */
export interface RevocationFeedPort {
  /**
   * Delivers every revocation-relevant event after `afterSeq` (all retained ones when absent) in
   * `seq` order, then live events as they commit on any replica, until the returned function is
   * called. `onError` is called at most once if the subscription cannot continue (it is then closed):
   * `BROKER_FEED_SLOW_CONSUMER`, `BROKER_FEED_STOPPED`. The promise resolves once the catch-up has been
   * delivered; while it runs, a promise returned by `onEvent` is awaited (backpressure). Events older
   * than the longest task-token lifetime are not replayed (they concern expired tokens only).
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller is a resource server or operator;
   *   `BROKER_INPUT_INVALID` for an `afterSeq` that is not a non-negative integer.
   */
  subscribe(
    caller: Caller,
    options: { afterSeq?: string },
    onEvent: (event: RevocationFeedEvent) => void | Promise<void>,
    onError: (err: Error) => void,
  ): Promise<() => void>;
}

/** The revocation engine's figures for `/metrics` (ISSUE 4, "Never lost": counted in `/metrics`). */
export interface RevocationMetrics {
  /** Queue rows retrying with backoff. */
  readonly queuePending: number;
  /** Queue rows whose retry budget is spent (still retried, slowly and on operator request). */
  readonly queueFailed: number;
  /** Credentials in status `revoke_failed`. */
  readonly revokeFailedCredentials: number;
  /** Backend attempts made by this replica since it started, by outcome. */
  readonly attempts: Readonly<Record<'revoked' | 'retrying' | 'revoke_failed' | 'stale', number>>;
}

/** Read at each scrape of `/metrics` (unauthenticated, like the rest of it). */
export interface RevocationMetricsPort {
  snapshot(): Promise<RevocationMetrics>;
}

/** How bad a signal says things are (ISSUE 4, "Anomaly signals"). */
export type SignalSeverity = 'low' | 'medium' | 'high' | 'critical';

/** What the broker does about a signal, as the policy's `anomaly_responses` decide. */
export type SignalResponse = 'revoke_task' | 'quarantine_workload' | 'record_only';

/**
 * A detector's signal (`POST /v1/signals` with JSON; gRPC). HTTP body: `{kind, severity, subject:
 * {task_id} | {workload}, description?, evidence?, occurred_at?}` (docs/anomaly.md).
 */
export interface SignalSubmission {
  /** `[a-z0-9_.-]{1,64}`; `broker.*` is reserved for the built-in detectors. */
  readonly kind: string;
  readonly severity: SignalSeverity;
  readonly subject: { readonly taskId: string } | { readonly workload: SpiffeId };
  readonly description?: string;
  /** Small JSON (at most 4 KiB, 5 levels deep); never a secret. */
  readonly evidence?: Readonly<Record<string, unknown>>;
  readonly occurredAt?: Date;
}

/** The answer to a signal: the ledger-linked signal id and what was done (HTTP 202). */
export interface SignalAccepted {
  readonly signalId: string;
  readonly kind: string;
  readonly severity: SignalSeverity;
  readonly response: SignalResponse;
  /** The `anomaly_responses` rule that chose the response, or `default`. */
  readonly rule: string;
  /** For `revoke_task` and `quarantine_workload`: what was revoked. */
  readonly revocation?: RevocationResult;
  /** For `quarantine_workload`. */
  readonly quarantine?: QuarantineView;
}

/** Anomaly signals from detectors (ISSUE 4): the callers the policy names in `roles.detectors`. */
export interface SignalPort {
  /**
   * Records a signal and applies the policy's response before resolving.
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller is a detector; `BROKER_INPUT_INVALID`;
   *   `BROKER_TASK_NOT_FOUND` (subject task); `BROKER_STORE_*`.
   */
  submit(caller: Caller, input: SignalSubmission): Promise<SignalAccepted>;
  /**
   * A Security Event Token (RFC 8417; CAEP / RISC events) pushed by the caller (RFC 8935), signed as
   * the caller (`iss` = its SPIFFE ID) with a JWT authority of its trust domain's bundle.
   *
   * @throws {BrokerError} as {@link submit}, plus `BROKER_SET_*`.
   */
  deliverSet(caller: Caller, token: string): Promise<SignalAccepted>;
}

/** The task-token verification keys (RFC 7517 §5), public. */
export interface KeysPort {
  jwks(): Promise<TaskTokenJwks>;
}

/** Readiness: named checks (e.g. `store`, `policy`); ready when every one is true. */
export interface HealthPort {
  ready(): Promise<Readonly<Record<string, boolean>>>;
}

/** Every port of the HTTP API. */
export interface HttpPorts {
  readonly authenticate: Authenticate;
  readonly tasks: TaskPort;
  readonly credentials: CredentialPort;
  readonly tokenExchange: TokenExchangePort;
  readonly introspection: IntrospectionPort;
  readonly audit: AuditPort;
  /** Absent until the revocation engine is wired (ISSUE 4). */
  readonly revocations?: RevocationPort;
  /** The revocation engine's gauges and counters for `/metrics` (ISSUE 4); absent when not wired. */
  readonly revocationMetrics?: RevocationMetricsPort;
  /** The revocation push feed (ISSUE 4); absent when not wired. */
  readonly revocationFeed?: RevocationFeedPort;
  /** Anomaly signals from detectors (ISSUE 4); absent when not wired. */
  readonly signals?: SignalPort;
  readonly keys: KeysPort;
  readonly health: HealthPort;
}
