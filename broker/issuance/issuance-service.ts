import type { Logger } from 'pino';
import type {
  IssuedCredential,
  JsonObject,
  JsonValue as HandleValue,
} from '../../adapters/credential-adapter.js';
import { hashSecret } from '../../adapters/credential-adapter.js';
import type { ProviderInstance, ProviderRegistry } from '../../adapters/registry.js';
import type { Clock } from '../../spiffe/clock.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Caller } from '../auth/authenticator.js';
import type { TtlBound } from '../domain/credential-ttl.js';
import type { Revocability } from '../domain/credential.js';
import { BrokerError } from '../errors.js';
import { authorizeCredential, denialError, type CredentialGrant } from '../policy/decide.js';
import { findRule } from '../policy/match-rule.js';
import type { Policy } from '../policy/policy-types.js';
import type { RateLimiter } from '../policy/rate-limiter.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type { IssuanceStore, TaskRecord } from '../store/issuance-store.js';
import type { IdSource } from './id-source.js';
import { recordDenial, type DenialRecord } from './record-denial.js';
import { NO_ANOMALY_OBSERVER, type AnomalyObserver } from '../anomaly/anomaly-observer.js';

/** A credential request for one task (`POST /v1/tasks/:id/credentials`). */
export interface IssueRequest {
  readonly taskId: string;
  readonly provider: string;
  /** Exact scopes; empty or absent means the scopes the task's manifest declares for the provider. */
  readonly scopes?: readonly string[] | undefined;
  /** Requested TTL in whole seconds. */
  readonly ttlSeconds?: number | undefined;
}

/** A credential released to its task's workload: the secret, once, and what the ledger recorded. */
export interface IssuedTaskCredential {
  readonly credentialId: string;
  readonly taskId: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  /** The credential itself. Never logged, never stored. */
  readonly secret: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly ttlSeconds: number;
  readonly revocability: Revocability;
  readonly renewable: boolean;
  /** Which bounds of DESIGN invariant 2 set the TTL. */
  readonly boundBy: readonly TtlBound[];
}

/** A deep copy of an adapter handle in the ledger's JSON type (the two differ only in `readonly`). */
function copyHandle(value: HandleValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyHandle);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyHandle(v)]));
}

/** What {@link createIssuanceService} needs. */
export interface IssuanceServiceDeps {
  readonly store: Pick<IssuanceStore, 'getTask' | 'recordIssuance' | 'recordDenial'>;
  readonly providers: Pick<ProviderRegistry, 'get'>;
  readonly policy: { current(): Policy };
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  /** Called after each committed issuance (the ledger sealer's `notify`). */
  readonly onCommitted?: () => void;
  /** Quarantines (ISSUE 4), read only when refusing an ended task, to give the precise code. */
  readonly quarantines?: { isQuarantined(workload: SpiffeId): Promise<boolean> };
  /** Told of each refusal in `authorize` (the built-in anomaly detectors); no I/O, never throws. */
  readonly anomaly?: Pick<AnomalyObserver, 'credentialDenied'>;
}

/** Mints task-scoped credentials. */
export interface IssuanceService {
  /**
   * Issues one credential for `req.taskId` to `caller` (ISSUE 3, Tasks and issuance).
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND` (absent or another workload's), `BROKER_TASK_ALREADY_ENDED`,
   *   `BROKER_POLICY_DENIED`, `BROKER_POLICY_QUOTA_EXCEEDED`, `BROKER_POLICY_RATE_LIMITED`,
   *   `BROKER_INPUT_INVALID`, `BROKER_ISSUANCE_*` (TTL bounds), `BROKER_ADAPTER_*` (provider failed),
   *   `BROKER_STORE_UNAVAILABLE` (fail closed: nothing released).
   */
  issue(caller: Caller, req: IssueRequest): Promise<IssuedTaskCredential>;
}

/**
 * Creates the issuance service. The order is the security argument:
 *
 * 1. the task is read and must belong to the caller and be active (else the same not-found to strangers);
 * 2. the policy in force decides scopes (within BOTH manifest and rule), quotas and the TTL, which is
 *    `credentialTtlSeconds` over request, policy, task deadline and the caller's SVID expiry (invariant 2);
 * 3. the per-workload issuance rate is charged;
 * 4. the provider mints;
 * 5. the issuance and its ledger event are committed in one transaction (`recordIssuance`);
 * 6. only then is the secret returned (invariant 1). A failure after step 4 releases nothing and
 *    revokes the minted credential at its backend.
 *
 * Every refusal writes a `credential.denied` event naming the rule and the reason when the ledger is up.
 */
export function createIssuanceService(deps: IssuanceServiceDeps): IssuanceService {
  const log = deps.logger.child({ component: 'issuance' });

  const observer = deps.anomaly ?? NO_ANOMALY_OBSERVER;
  /** Tells the detectors of a refused request (in memory; the signal, if any, is raised off this path). */
  const observe = (d: Omit<DenialRecord, 'type'>): void =>
    observer.credentialDenied({
      workload: d.workload,
      taskId: d.taskId ?? '',
      provider: d.provider ?? '',
      why: d.why,
      code: d.code,
      now: d.now,
    });

  async function refuse(base: Omit<DenialRecord, 'type'>): Promise<never> {
    observe(base);
    await recordDenial(deps.store, log, { type: 'credential.denied', ...base });
    const opaque = base.code === 'BROKER_POLICY_DENIED' || base.code === 'BROKER_TASK_NOT_FOUND';
    throw new BrokerError(base.code, opaque ? undefined : base.reason);
  }

  async function authorize(caller: Caller, req: IssueRequest, policy: Policy, now: Date) {
    const common = { now, workload: caller.id, taskId: req.taskId, provider: req.provider };
    const task = await deps.store.getTask(req.taskId);
    if (task === undefined || !task.workload.equals(caller.id)) {
      const reason = task === undefined ? 'task does not exist' : 'task belongs to another workload';
      return refuse({ ...common, code: 'BROKER_TASK_NOT_FOUND', why: 'task', reason });
    }
    // A quarantine revokes all of the workload's tasks, so a quarantined workload only ever reaches
    // here with an ended task: the check costs nothing on the path that issues.
    if (task.status !== 'active' && (await deps.quarantines?.isQuarantined(caller.id))) {
      const reason = 'an operator must lift the quarantine';
      return refuse({ ...common, code: 'BROKER_WORKLOAD_QUARANTINED', why: 'quarantine', reason });
    }
    const decision = authorizeCredential(policy, caller.id, task, {
      provider: req.provider,
      scopes: req.scopes ?? [],
      ttlSeconds: req.ttlSeconds,
      // Read with the task; the commit re-checks it atomically (a race is refused there).
      issuedForTask: task.credentialsIssued,
      svidExpiresAt: caller.svidExpiresAt,
      now,
    });
    if (!decision.allowed) {
      observe({ ...common, ...decision });
      await recordDenial(deps.store, log, { type: 'credential.denied', ...common, ...decision });
      throw denialError(decision);
    }
    const taken = deps.rateLimiter.take(caller.id.toString(), decision.issuanceRate, now.getTime());
    if (!taken.allowed) {
      const reason = `issuance rate exceeded for rule ${decision.rule}; retry after ${taken.retryAfterMs} ms`;
      return refuse({
        ...common,
        code: 'BROKER_POLICY_RATE_LIMITED',
        why: 'rate',
        reason,
        rule: decision.rule,
      });
    }
    return { task, grant: decision };
  }

  /** Revokes a credential that must not be released; a failure is logged for operators. */
  async function discard(provider: ProviderInstance, minted: IssuedCredential<JsonObject>, now: Date) {
    try {
      await provider.revoke({ handle: minted.handle, now });
    } catch (err) {
      const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
      log.error({ adapter: provider.name, err_code: code }, 'unreleased credential could not be revoked');
    }
  }

  async function mint(caller: Caller, task: TaskRecord, grant: CredentialGrant, now: Date) {
    const provider = deps.providers.get(grant.provider);
    let minted: IssuedCredential<JsonObject>;
    try {
      minted = await provider.issue({
        taskId: task.id,
        workload: caller.id,
        scopes: grant.scopes,
        ttlSeconds: grant.ttl.ttlSeconds,
        now,
      });
    } catch (err) {
      const code = err instanceof BrokerError ? err.code : 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
      await denyGranted(caller, task, grant, now, {
        code,
        why: 'provider_failed',
        reason: `provider ${grant.provider} failed: ${code}`,
      });
      throw err instanceof BrokerError ? err : new BrokerError(code, undefined, { cause: err });
    }
    // Invariant 2 holds even against a faulty adapter: a credential outliving its bound is never
    // released — except a backend minimum the operator chose to round up to (aws-sts `short_ttl:
    // round_up`), which is accepted only when declared, no longer than that minimum, and revocable
    // (the task's end still kills it); the ledger records the rounding.
    const roundedUp = minted.ttlRoundedUp;
    const declaredRounding =
      roundedUp !== undefined &&
      provider.revocability === 'revocable' &&
      minted.expiresAt.getTime() <= now.getTime() + roundedUp.minimumSeconds * 1000;
    if (
      (minted.expiresAt.getTime() > grant.ttl.expiresAt.getTime() && !declaredRounding) ||
      minted.expiresAt.getTime() <= now.getTime()
    ) {
      await discard(provider, minted, now);
      throw new BrokerError(
        'BROKER_INTERNAL',
        `provider ${grant.provider} returned an expiry outside the ttl`,
      );
    }
    return { provider, minted };
  }

  /** Records the denial of a request that policy had granted but that failed afterwards. */
  async function denyGranted(
    caller: Caller,
    task: TaskRecord,
    grant: CredentialGrant,
    now: Date,
    outcome: Pick<DenialRecord, 'code' | 'why' | 'reason'>,
  ): Promise<void> {
    await recordDenial(deps.store, log, {
      type: 'credential.denied',
      now,
      workload: caller.id,
      taskId: task.id,
      provider: grant.provider,
      rule: grant.rule,
      ...outcome,
    });
  }

  async function commit(caller: Caller, task: TaskRecord, grant: CredentialGrant, policy: Policy, now: Date) {
    const { provider, minted } = await mint(caller, task, grant, now);
    const lifetime = Math.ceil((minted.expiresAt.getTime() - now.getTime()) / 1000);
    const ttlSeconds = Math.max(
      1,
      minted.ttlRoundedUp === undefined ? Math.min(grant.ttl.ttlSeconds, lifetime) : lifetime,
    );
    try {
      const record = await deps.store.recordIssuance({
        id: deps.ids.newId(),
        taskId: task.id,
        provider: grant.provider,
        scopes: grant.scopes,
        ttlSeconds,
        expiresAt: minted.expiresAt,
        revocationHandle: copyHandle(minted.handle),
        secretHash: minted.secretHash ?? hashSecret(minted.secret),
        revocability: provider.revocability,
        ...(minted.ttlRoundedUp && { ttlRoundedUp: minted.ttlRoundedUp }),
        now,
        maxCredentialsPerTask: findRule(policy, caller.id)?.rule.quotas.credentialsPerTask,
        rule: grant.rule,
        reason: grant.explanation,
      });
      return { record, minted, provider };
    } catch (err) {
      // Not durably recorded, so never released (invariant 1); kill it where it was minted.
      await discard(provider, minted, now);
      const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
      if (!code.startsWith('BROKER_STORE_')) {
        await denyGranted(caller, task, grant, now, { code, why: 'commit', reason: `not recorded: ${code}` });
      }
      throw err;
    }
  }

  return Object.freeze({
    async issue(caller: Caller, req: IssueRequest): Promise<IssuedTaskCredential> {
      const now = deps.clock.now();
      // One policy snapshot for the whole request: a reload never changes the rules mid-decision.
      const policy = deps.policy.current();
      const { task, grant } = await authorize(caller, req, policy, now);
      const { record, minted, provider } = await commit(caller, task, grant, policy, now);
      deps.onCommitted?.();
      log.info(
        { spiffe_id: caller.id.toString(), task_id: task.id, issuance_id: record.id, adapter: provider.name },
        'credential issued',
      );
      return Object.freeze({
        credentialId: record.id,
        taskId: task.id,
        provider: grant.provider,
        scopes: grant.scopes,
        secret: minted.secret,
        issuedAt: now,
        expiresAt: record.expiresAt,
        ttlSeconds: record.ttlSeconds,
        revocability: record.revocability,
        renewable: minted.renewable,
        boundBy: grant.ttl.boundBy,
      });
    },
  });
}
