import type { Logger } from 'pino';
import type { Clock } from '../../spiffe/clock.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type {
  Caller,
  CredentialListItem,
  QuarantineView,
  RevocationPort,
  RevocationResult,
  RevocationTarget,
  RevokeInput,
} from '../api/ports.js';
import { BrokerError } from '../errors.js';
import type { IdSource } from '../issuance/id-source.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import { authorizeRole } from '../policy/match-rule.js';
import type { Policy } from '../policy/policy-types.js';
import type {
  CredentialDisposition,
  CredentialListing,
  QuarantineRecord,
  RevocationRequest,
  RevocationStore,
  RevokedTasks,
} from '../store/revocation-store.js';
import { revocationResult } from './revocation-result.js';
import type { RevocationWorker } from './revocation-worker.js';
import { compileSelector, type CompiledSelector } from './selector.js';

/** What {@link createRevocationService} needs. */
export interface RevocationServiceDeps {
  readonly store: RevocationStore;
  readonly worker: Pick<RevocationWorker, 'revokeNow'>;
  readonly policy: { current(): Policy };
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  /** Called after each committed state change (the ledger sealer's `notify`). */
  readonly onCommitted?: () => void;
}

/**
 * The revocation port for operators, plus the same actions on behalf of the broker itself (anomaly
 * responses), which carry who acted (`signal:<id>`) instead of an operator's authorization.
 */
export interface RevocationService extends RevocationPort {
  /** {@link RevocationPort.revoke} without the role check, recorded as done `by`. */
  revokeFor(by: string, input: RevokeInput): Promise<RevocationResult>;
  /** {@link RevocationPort.quarantine} without the role check, recorded as done `by`. */
  quarantineFor(
    by: string,
    input: { workload: SpiffeId; reason: string },
  ): Promise<QuarantineView & { readonly revocation: RevocationResult }>;
}

const MAX_REASON = 1024;

/** @throws {BrokerError} `BROKER_INPUT_INVALID` unless `reason` has 1..1024 characters. */
function checkReason(reason: string): string {
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'reason must have 1..1024 characters');
  }
  return reason;
}

function quarantineView(q: QuarantineRecord): QuarantineView {
  return Object.freeze({ workload: q.workload, reason: q.reason, since: q.since, by: q.by });
}

/** The ledger description of a target (ids only: nothing secret can be in it). */
function targetJson(t: Exclude<RevocationTarget, { kind: 'selector' }>): JsonObject {
  switch (t.kind) {
    case 'credential':
      return { credential_id: t.credentialId };
    case 'task':
      return { task_id: t.taskId };
    case 'workload':
      return { workload: t.workload.toString() };
  }
}

/** A listed credential without what operators need not see (the handle, the secret's hash). */
function listItem(c: CredentialListing): CredentialListItem {
  return Object.freeze({
    id: c.id,
    taskId: c.taskId,
    provider: c.provider,
    scopes: c.scopes,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    revocability: c.revocability,
    status: c.status,
    revokedAt: c.revokedAt,
    revocation: c.revocation,
  });
}

/**
 * Creates the revocation service (ISSUE 4, "Revoke anything"; DESIGN invariant 3). Each call commits
 * its whole state change in one transaction: tasks `revoked` (cascading to delegated sub-tasks),
 * their credentials put in the durable queue, and the ledger events linked by one `revocation_id`.
 * Only then are the backends called, by the worker, and the call waits a bounded time for the
 * first attempt of its own credentials: each is `revoked`, `pending` (queued, retried until it
 * succeeds or the credential expires) or `not_revocable` (expires-only, with its expiry).
 */
export function createRevocationService(deps: RevocationServiceDeps): RevocationService {
  const log = deps.logger.child({ component: 'revocations' });

  /** The operator matcher that admits `caller`. @throws {BrokerError} `BROKER_POLICY_DENIED`. */
  function requireOperator(caller: Caller): string {
    const decision = authorizeRole(deps.policy.current(), caller.id, 'operator');
    if (!decision.allowed) throw new BrokerError('BROKER_POLICY_DENIED');
    return `role operator: ${decision.matcher}`;
  }

  async function finish(revocationId: string, changed: RevokedTasks, now: Date): Promise<RevocationResult> {
    deps.onCommitted?.();
    const queued = changed.credentials.filter((d) => d.disposition === 'queued').map((d) => d.credential.id);
    const immediate = await deps.worker.revokeNow(queued);
    return revocationResult(revocationId, changed.tasks, changed.credentials, immediate, now);
  }

  async function revokeAs(by: string, input: RevokeInput, rule?: string): Promise<RevocationResult> {
    const reason = checkReason(input.reason);
    const target = input.target;
    const compiled = target.kind === 'selector' ? compileSelector(target.selector) : undefined;
    if (compiled?.broad && input.confirm !== true) {
      throw new BrokerError('BROKER_REVOCATION_CONFIRM_REQUIRED');
    }
    const now = deps.clock.now();
    const request: RevocationRequest = {
      revocationId: deps.ids.newId(),
      reason,
      by,
      now,
      target:
        target.kind === 'selector'
          ? { ...compiled?.target, confirm: input.confirm === true }
          : targetJson(target),
      ...(rule !== undefined && { rule }),
    };
    let changed: RevokedTasks;
    if (target.kind === 'credential') {
      const one: CredentialDisposition = await deps.store.revokeCredential(target.credentialId, request);
      changed = { tasks: [], credentials: [one] };
    } else if (target.kind === 'task') {
      changed = await deps.store.revokeTasks({ taskId: target.taskId }, request);
    } else if (target.kind === 'workload') {
      changed = await deps.store.revokeTasks({ workload: target.workload }, request);
    } else {
      changed = await deps.store.revokeTasks((compiled as CompiledSelector).selection, request);
    }
    const result = await finish(request.revocationId, changed, now);
    log.info(
      {
        revocation_id: result.revocationId,
        target: target.kind,
        by,
        tasks: result.tasks.length,
        ...result.counts,
      },
      'revocation committed',
    );
    return result;
  }

  async function quarantineAs(by: string, input: { workload: SpiffeId; reason: string }, rule?: string) {
    const reason = checkReason(input.reason);
    const now = deps.clock.now();
    const revocationId = deps.ids.newId();
    const { quarantine, created, revoked } = await deps.store.quarantine({
      id: deps.ids.newId(),
      workload: input.workload,
      revocationId,
      reason,
      by,
      now,
      ...(rule !== undefined && { rule }),
    });
    const revocation = await finish(revocationId, revoked, now);
    log.info(
      { spiffe_id: input.workload.toString(), by, created, tasks: revocation.tasks.length },
      'workload quarantined',
    );
    return Object.freeze({ ...quarantineView(quarantine), revocation });
  }

  return Object.freeze({
    async revoke(caller: Caller, input: RevokeInput) {
      const rule = requireOperator(caller);
      return revokeAs(caller.id.toString(), input, rule);
    },
    revokeFor: (by: string, input: RevokeInput) => revokeAs(by, input),
    async quarantine(caller: Caller, input: { workload: SpiffeId; reason: string }) {
      const rule = requireOperator(caller);
      return quarantineAs(caller.id.toString(), input, rule);
    },
    quarantineFor: (by: string, input: { workload: SpiffeId; reason: string }) => quarantineAs(by, input),
    async lift(caller: Caller, input: { workload: SpiffeId; reason: string }): Promise<void> {
      requireOperator(caller);
      const reason = checkReason(input.reason);
      const lifted = await deps.store.liftQuarantine({
        workload: input.workload,
        reason,
        by: caller.id.toString(),
        now: deps.clock.now(),
      });
      if (lifted === undefined) throw new BrokerError('BROKER_QUARANTINE_NOT_FOUND');
      deps.onCommitted?.();
      log.info({ spiffe_id: input.workload.toString(), by: caller.id.toString() }, 'quarantine lifted');
    },
    async quarantines(caller: Caller): Promise<readonly QuarantineView[]> {
      requireOperator(caller);
      return (await deps.store.listQuarantines()).map(quarantineView);
    },
    async credentials(caller: Caller, filter: Parameters<RevocationPort['credentials']>[1]) {
      requireOperator(caller);
      const page = await deps.store.listCredentials(filter);
      return { items: page.items.map(listItem), nextCursor: page.nextCursor };
    },
    async retryFailed(caller: Caller, input: { credentialId?: string }) {
      requireOperator(caller);
      const ids = await deps.store.requeueFailed({ ...input, now: deps.clock.now() });
      // Attempted now (bounded wait); whatever fails again stays revoke_failed, queued.
      await deps.worker.revokeNow(ids);
      log.info({ by: caller.id.toString(), requeued: ids.length }, 'revoke_failed credentials requeued');
      return { requeued: ids.length };
    },
  });
}
