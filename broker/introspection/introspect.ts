import { hashSecret } from '../../adapters/credential-adapter.js';
import type { TaskTokenAlgorithm } from '../../adapters/jwt/config.js';
import type { TaskTokenJwks } from '../../adapters/jwt/signing-keys.js';
import { verifyTaskToken, type VerifiedTaskToken } from '../../adapters/jwt/verify-task-token.js';
import type { Clock } from '../../spiffe/clock.js';
import { effectiveTaskStatus } from '../domain/task.js';
import type { CredentialRecord, IssuanceStore, TaskRecord } from '../store/issuance-store.js';
import type { AnomalyObserver } from '../anomaly/anomaly-observer.js';

/** RFC 7662 §2.2 for an inactive token: nothing else may be disclosed. */
export interface InactiveTokenResponse {
  readonly active: false;
}

/** RFC 7662 §2.2 for an active task token (RFC 9068 claims plus `task_id`). */
export interface ActiveTokenResponse {
  readonly active: true;
  readonly scope: string;
  readonly client_id: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly iss: string;
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly task_id: string;
  readonly token_type: 'Bearer';
}

/** The introspection answer. */
export type IntrospectionResponse = InactiveTokenResponse | ActiveTokenResponse;

/** What {@link createIntrospector} needs. */
export interface IntrospectorDeps {
  /** The task-token keyring's JWKS at a time (`TaskTokenKeyring.jwks`). */
  readonly keyring: {
    jwks(now: Date): TaskTokenJwks;
    /** Re-reads keys shared with other replicas; resolves true when they changed. */
    refresh?(): Promise<boolean>;
  };
  /** Algorithms the broker signs with (pinned; never read from the token). */
  readonly algorithms: readonly TaskTokenAlgorithm[];
  /** The audiences of the configured `jwt` providers; a token must name one of them. */
  readonly audiences: readonly string[];
  /** The broker's issuer, when all `jwt` providers share one. */
  readonly issuer?: string | undefined;
  readonly store: Pick<IssuanceStore, 'findCredentialBySecretHash' | 'getTask'>;
  readonly clock: Clock;
  /**
   * Told when a token that verifies and is known is inactive because its task ended (the built-in
   * `ended_task_introspection` detector). Only then, on that inactive path, is the task read for it.
   */
  readonly observer?: Pick<AnomalyObserver, 'endedTaskIntrospected'>;
}

/** Answers RFC 7662 introspection requests for broker task tokens. */
export interface Introspector {
  /**
   * Introspects `token` (the `token` parameter of RFC 7662 §2.1; `token_type_hint` needs no handling,
   * as only task tokens exist here). Any token that does not verify, is unknown to the ledger, is
   * revoked or expired, or whose task has ended (or is past its deadline) is `{active: false}`.
   *
   * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the broker's state cannot be read: the
   *   endpoint answers with an error rather than guess (an error is never read as "active").
   */
  introspect(token: string): Promise<IntrospectionResponse>;
}

const INACTIVE: InactiveTokenResponse = Object.freeze({ active: false });

function activeResponse(token: VerifiedTaskToken): ActiveTokenResponse {
  const aud = token.audience.length === 1 ? token.audience[0]! : token.audience;
  return Object.freeze({
    active: true,
    scope: token.scopes.join(' '),
    client_id: typeof token.claims.client_id === 'string' ? token.claims.client_id : token.subject.toString(),
    sub: token.subject.toString(),
    aud,
    iss: token.issuer,
    exp: Math.floor(token.expiresAt.getTime() / 1000),
    iat: Math.floor(token.issuedAt.getTime() / 1000),
    jti: token.jti,
    task_id: token.taskId,
    token_type: 'Bearer',
  });
}

/**
 * Creates the introspector (RFC 7662; ISSUE 3: revoked, expired and unknown tokens inactive). The
 * signature and claims are checked first with `verifyTaskToken`, so the database is only asked about
 * tokens the broker really signed; the credential row is then found by the SHA-256 of the token (the
 * only form in which the broker keeps it) and must be `active`, unexpired, and belong to an active
 * task of the same id. Revocation by task end is therefore visible the moment the task's status
 * change commits (DESIGN invariant 4), before the credential rows are marked.
 */
export function createIntrospector(deps: IntrospectorDeps): Introspector {
  let lastRefreshMs = -Infinity;
  const verify = (token: string, now: Date) =>
    verifyTaskToken(token, {
      jwks: deps.keyring.jwks(now),
      algorithms: deps.algorithms,
      audience: deps.audiences,
      ...(deps.issuer === undefined ? {} : { issuer: deps.issuer }),
      now,
    });
  /**
   * A kid this replica does not know may be a key another replica rotated in a moment ago: re-read
   * the shared keys once, at most once a second (so unknown kids cannot drive database reads).
   */
  const refreshed = async (now: Date): Promise<boolean> => {
    if (deps.keyring.refresh === undefined || now.getTime() - lastRefreshMs < 1000) return false;
    lastRefreshMs = now.getTime();
    return deps.keyring.refresh();
  };
  /** Tells the observer when `task` has ended (a token of an ended task is being used). */
  const reportEnded = (task: TaskRecord | undefined, credential: CredentialRecord, now: Date): void => {
    if (deps.observer === undefined || task === undefined) return;
    const status = effectiveTaskStatus(task, now);
    if (status === 'active') return;
    deps.observer.endedTaskIntrospected({
      workload: task.workload,
      taskId: task.id,
      credentialId: credential.id,
      taskStatus: status,
      now,
    });
  };
  return Object.freeze({
    async introspect(token: string): Promise<IntrospectionResponse> {
      const now = deps.clock.now();
      if (typeof token !== 'string' || token === '' || deps.audiences.length === 0) return INACTIVE;
      let verified = await verify(token, now);
      if (!verified.ok && verified.code === 'BROKER_TOKEN_UNKNOWN_KID' && (await refreshed(now))) {
        verified = await verify(token, now);
      }
      if (!verified.ok) return INACTIVE;
      const credential = await deps.store.findCredentialBySecretHash(hashSecret(token));
      if (credential === undefined) return INACTIVE;
      if (credential.status !== 'active') {
        if (deps.observer && credential.taskId === verified.token.taskId) {
          // Read for the detector only: a failure here must not turn "inactive" into an error.
          reportEnded(await deps.store.getTask(credential.taskId).catch(() => undefined), credential, now);
        }
        return INACTIVE;
      }
      if (credential.expiresAt.getTime() <= now.getTime()) return INACTIVE;
      if (credential.taskId !== verified.token.taskId) return INACTIVE;
      const task = await deps.store.getTask(credential.taskId);
      if (task === undefined || effectiveTaskStatus(task, now) !== 'active') {
        reportEnded(task, credential, now);
        return INACTIVE;
      }
      if (!task.workload.equals(verified.token.subject)) return INACTIVE;
      return activeResponse(verified.token);
    },
  });
}
