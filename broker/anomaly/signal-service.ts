import type { Logger } from 'pino';
import type { BundleSource } from '../../spiffe/bundle.js';
import type { Clock } from '../../spiffe/clock.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Caller, QuarantineView, RevocationResult } from '../api/ports.js';
import type { ReplayStore } from '../auth/replay-store.js';
import { BrokerError } from '../errors.js';
import type { IdSource } from '../issuance/id-source.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import { authorizeRole } from '../policy/match-rule.js';
import type { Policy } from '../policy/policy-types.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import type { IssuanceStore, LedgerEventInput } from '../store/issuance-store.js';
import { decideResponse, type AnomalyResponse, type BuiltInDetector } from './anomaly-policy.js';
import { signalFromSet } from './set-signal.js';
import { verifySet, type VerifiedSet } from './set-verify.js';
import { checkSignal, subjectJson, type Severity, type Signal, type SignalInput } from './signal.js';

/** What {@link createSignalService} needs. */
export interface SignalServiceDeps {
  readonly store: Pick<IssuanceStore, 'getTask' | 'appendEvents'>;
  /** The revocation service's actions on the broker's own behalf. */
  readonly responder: Pick<RevocationService, 'revokeFor' | 'quarantineFor'>;
  readonly policy: { current(): Policy };
  /** Trust bundles: a SET is verified with the bundle of its issuer's trust domain. */
  readonly bundles: BundleSource;
  /** The broker's audience (a SET's `aud` must contain it). */
  readonly audience: string;
  /** Where received SET `jti`s are remembered (shared by replicas: `set_receipts`). */
  readonly setReceipts: ReplayStore;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  /** Called after each committed ledger append (the ledger sealer's `notify`). */
  readonly onCommitted?: () => void;
}

/** What the broker did about a signal. */
export interface SignalReceipt {
  readonly signalId: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly response: AnomalyResponse;
  /** The `anomaly_responses` rule that chose the response, or `default`. */
  readonly rule: string;
  /** For `revoke_task` and `quarantine_workload`: what was revoked. */
  readonly revocation?: RevocationResult;
  readonly quarantine?: QuarantineView;
}

/** Receives anomaly signals and applies the policy's response (ISSUE 4, "Anomaly signals"). */
export interface SignalService {
  /**
   * A signal from an authenticated detector (`POST /v1/signals`, JSON).
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` unless the caller holds the `detector` role;
   *   `BROKER_INPUT_INVALID`; `BROKER_TASK_NOT_FOUND` (subject task); `BROKER_STORE_*`.
   */
  signal(caller: Caller, input: SignalInput): Promise<SignalReceipt>;
  /**
   * A Security Event Token pushed by an authenticated detector (RFC 8935), signed as itself.
   *
   * @throws {BrokerError} as {@link signal}, plus `BROKER_SET_*` (see `verifySet`),
   *   `BROKER_SET_UNSUPPORTED_EVENT` and `BROKER_SET_REPLAYED`.
   */
  deliverSet(caller: Caller, token: string): Promise<SignalReceipt>;
  /** A signal of a built-in detector (`broker:<name>`), through the same path without a role check. */
  raise(detector: BuiltInDetector, signal: Signal): Promise<SignalReceipt>;
}

/** Where a signal came from. */
interface Source {
  readonly detector: string;
  readonly via: 'api' | 'set' | 'builtin';
  readonly set?: VerifiedSet;
}

/** A signal whose subject has been resolved against the store. */
interface Prepared {
  readonly signal: Signal;
  readonly workload: SpiffeId;
  readonly taskId: string | null;
}

const MAX_REASON = 1024;

/**
 * Creates the signal service. Every signal is one `signal.received` ledger event (detector, kind,
 * severity, subject, the chosen response and the rule that chose it) and one `signal.responded` event
 * linked by `signal_id` (outcome `recorded`, `done` with the `revocation_id`, or `failed` with the
 * error code); a response's own revocation and quarantine events carry `by: signal:<id>`. A
 * `record_only` signal writes both events in one transaction and changes nothing else.
 */
export function createSignalService(deps: SignalServiceDeps): SignalService {
  const log = deps.logger.child({ component: 'signals' });

  function requireDetector(caller: Caller): void {
    if (!authorizeRole(deps.policy.current(), caller.id, 'detector').allowed) {
      throw new BrokerError('BROKER_POLICY_DENIED');
    }
  }

  async function prepare(signal: Signal): Promise<Prepared> {
    if ('workload' in signal.subject) return { signal, workload: signal.subject.workload, taskId: null };
    const task = await deps.store.getTask(signal.subject.taskId);
    if (task === undefined) throw new BrokerError('BROKER_TASK_NOT_FOUND');
    return { signal, workload: task.workload, taskId: task.id };
  }

  async function append(events: readonly LedgerEventInput[]): Promise<void> {
    await deps.store.appendEvents(events);
    deps.onCommitted?.();
  }

  function receivedEvent(
    p: Prepared,
    source: Source,
    id: string,
    response: AnomalyResponse,
    rule: string,
    now: Date,
  ) {
    const { signal } = p;
    const set = source.set;
    const details: JsonObject = {
      signal_id: id,
      detector: source.detector,
      via: source.via,
      kind: signal.kind,
      severity: signal.severity,
      subject: subjectJson(signal.subject),
      response,
      ...(signal.evidence !== undefined && { evidence: signal.evidence }),
      ...(signal.occurredAt !== undefined && { occurred_at: signal.occurredAt.toISOString() }),
      ...(set !== undefined && {
        set: { jti: set.jti, iat: set.issuedAt.toISOString(), ...(set.txn && { txn: set.txn }) },
      }),
    };
    const event: LedgerEventInput = {
      type: 'signal.received',
      occurredAt: now,
      workload: p.workload,
      taskId: p.taskId,
      reason: signal.description ?? null,
      rule,
      details,
    };
    return event;
  }

  function respondedEvent(
    p: Prepared,
    id: string,
    response: AnomalyResponse,
    now: Date,
    outcome: JsonObject,
  ) {
    const event: LedgerEventInput = {
      type: 'signal.responded',
      occurredAt: now,
      workload: p.workload,
      taskId: p.taskId,
      details: { signal_id: id, response, ...outcome },
    };
    return event;
  }

  async function act(p: Prepared, id: string, response: AnomalyResponse, reason: string) {
    const by = `signal:${id}`;
    if (response === 'quarantine_workload') {
      const q = await deps.responder.quarantineFor(by, { workload: p.workload, reason });
      const { revocation, ...quarantine } = q;
      return { revocation, quarantine: quarantine as QuarantineView };
    }
    const target =
      p.taskId !== null
        ? { kind: 'task' as const, taskId: p.taskId }
        : { kind: 'workload' as const, workload: p.workload };
    return { revocation: await deps.responder.revokeFor(by, { target, reason }) };
  }

  async function record(p: Prepared, source: Source): Promise<SignalReceipt> {
    const { signal } = p;
    const now = deps.clock.now();
    const id = deps.ids.newId();
    const { response, rule } = decideResponse(deps.policy.current().anomaly, signal.kind, signal.severity);
    const received = receivedEvent(p, source, id, response, rule, now);
    const base = { signalId: id, kind: signal.kind, severity: signal.severity, response, rule };
    log.info(
      { signal_id: id, detector: source.detector, kind: signal.kind, severity: signal.severity, response },
      'signal received',
    );
    if (response === 'record_only') {
      await append([received, respondedEvent(p, id, response, now, { outcome: 'recorded' })]);
      return Object.freeze(base);
    }
    // Recorded before acting: a response that fails half-way is still explained by its signal.
    await append([received]);
    const reason = `signal ${id}: ${signal.kind} (${signal.severity}) from ${source.detector}`.slice(
      0,
      MAX_REASON,
    );
    try {
      const done = await act(p, id, response, reason);
      const r = done.revocation;
      await append([
        respondedEvent(p, id, response, deps.clock.now(), {
          outcome: 'done',
          revocation_id: r.revocationId,
          tasks: r.tasks.length,
          credentials: r.credentials.length,
        }),
      ]);
      return Object.freeze({ ...base, ...done });
    } catch (err) {
      const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
      log.error({ signal_id: id, err_code: code, response }, 'signal response failed');
      await append([
        respondedEvent(p, id, response, deps.clock.now(), { outcome: 'failed', error_code: code }),
      ]).catch(() => log.error({ signal_id: id }, 'signal response failure not recorded'));
      throw err;
    }
  }

  return Object.freeze({
    async signal(caller: Caller, input: SignalInput): Promise<SignalReceipt> {
      requireDetector(caller);
      const p = await prepare(checkSignal(input));
      return record(p, { detector: caller.id.toString(), via: 'api' });
    },
    async deliverSet(caller: Caller, token: string): Promise<SignalReceipt> {
      requireDetector(caller);
      const now = deps.clock.now();
      const set = await verifySet(token, {
        bundles: deps.bundles,
        caller: caller.id,
        audience: deps.audience,
        now,
        maxAgeSeconds: deps.policy.current().anomaly.setMaxAgeSeconds,
      });
      const p = await prepare(signalFromSet(set));
      // The jti is consumed last, once everything else holds, so a refused SET can be corrected and resent.
      const verdict = await deps.setReceipts.remember(
        `${set.issuer.toString()}#${set.jti}`,
        set.rememberUntil,
        now,
      );
      if (verdict === 'replayed') throw new BrokerError('BROKER_SET_REPLAYED');
      if (verdict === 'full') throw new BrokerError('BROKER_INTERNAL', 'set receipts cannot be remembered');
      return record(p, { detector: caller.id.toString(), via: 'set', set });
    },
    async raise(detector: BuiltInDetector, signal: Signal): Promise<SignalReceipt> {
      const p = await prepare(checkSignal(signal, { builtIn: true }));
      return record(p, { detector: `broker:${detector}`, via: 'builtin' });
    },
  });
}
