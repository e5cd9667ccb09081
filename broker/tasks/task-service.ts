import type { Logger } from 'pino';
import type { Clock } from '../../spiffe/clock.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { Caller } from '../auth/authenticator.js';
import { effectiveTaskStatus, transitionTask, type ManifestEntry } from '../domain/task.js';
import { BrokerError } from '../errors.js';
import type { IdSource } from '../issuance/id-source.js';
import { recordDenial } from '../issuance/record-denial.js';
import { authorizeTask, denialError } from '../policy/decide.js';
import { authorizeRole } from '../policy/match-rule.js';
import type { Policy } from '../policy/policy-types.js';
import type { IssuanceStore, Page, TaskFilter, TaskRecord } from '../store/issuance-store.js';
import { awaitTaskRevocations, type RevokeOutcome, type Revoker } from './revoke-task-credentials.js';

/** A task start request (`POST /v1/tasks`). */
export interface StartTaskRequest {
  readonly intent: { readonly name: string; readonly text?: string | undefined };
  readonly manifest: readonly ManifestEntry[];
  /** Requested lifetime in whole seconds; capped at the policy's `max_task_lifetime`. */
  readonly ttlSeconds?: number | undefined;
  /** A parent task of the same workload (delegation). */
  readonly parent?: string | undefined;
}

/** A task that ended, and what happened to the credentials it had. */
export interface EndedTaskResult {
  readonly task: TaskRecord;
  readonly credentials: RevokeOutcome;
}

/** What {@link createTaskService} needs. */
export interface TaskServiceDeps {
  readonly store: Pick<
    IssuanceStore,
    'createTask' | 'getTask' | 'listTasks' | 'endTask' | 'countActiveTasks' | 'recordDenial'
  >;
  /** The revocation worker: ending a task queues its revocations, then asks for them at once. */
  readonly revoker: Revoker;
  readonly policy: { current(): Policy };
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  readonly onCommitted?: () => void;
}

/** The task lifecycle for workloads, and the task list for operators. */
export interface TaskService {
  /**
   * Opens a task for `caller` (`task.started` event). The deadline is now + the requested lifetime
   * capped at the policy maximum; it is not capped by the caller's SVID (tasks may outlive an SVID;
   * credentials never do, DESIGN invariant 2).
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED`, `BROKER_POLICY_QUOTA_EXCEEDED` (active tasks),
   *   `BROKER_INPUT_INVALID`, `BROKER_TASK_NOT_FOUND` / `BROKER_TASK_ALREADY_ENDED` (parent),
   *   `BROKER_STORE_UNAVAILABLE`. Each refusal writes a `task.denied` event when the ledger is up.
   */
  start(caller: Caller, req: StartTaskRequest): Promise<TaskRecord>;
  /**
   * The caller's task, its status as of now (an overdue task reads `expired` before the sweeper runs).
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND`, also for another workload's task.
   */
  get(caller: Caller, id: string): Promise<TaskRecord>;
  /**
   * Completes the caller's active task and revokes its credentials at once (DESIGN invariant 3).
   *
   * @throws {BrokerError} `BROKER_TASK_NOT_FOUND`, `BROKER_TASK_ALREADY_ENDED` (also past the deadline).
   */
  complete(caller: Caller, id: string, reason?: string): Promise<EndedTaskResult>;
  /** Fails the caller's active task; as {@link complete}. */
  fail(caller: Caller, id: string, reason?: string): Promise<EndedTaskResult>;
  /**
   * Lists tasks, newest first, for operators.
   *
   * @throws {BrokerError} `BROKER_POLICY_DENIED` for a caller without the operator role,
   *   `BROKER_LEDGER_BAD_CURSOR`.
   */
  list(caller: Caller, filter: TaskFilter): Promise<Page<TaskRecord>>;
}

/** Creates the task service (ISSUE 3, Tasks and issuance). */
export function createTaskService(deps: TaskServiceDeps): TaskService {
  const log = deps.logger.child({ component: 'tasks' });

  /** Writes the `task.denied` event (the ledger gets the full reason; the caller the coded error). */
  async function refuseStart(
    caller: SpiffeId,
    now: Date,
    err: BrokerError,
    denial: { why: string; reason: string; rule?: string | undefined },
  ): Promise<BrokerError> {
    await recordDenial(deps.store, log, {
      type: 'task.denied',
      now,
      workload: caller,
      code: err.code,
      ...denial,
    });
    return err;
  }

  async function ownedTask(caller: Caller, id: string): Promise<TaskRecord> {
    const task = await deps.store.getTask(id);
    // Another workload's task is answered exactly as one that does not exist.
    if (task === undefined || !task.workload.equals(caller.id))
      throw new BrokerError('BROKER_TASK_NOT_FOUND');
    return task;
  }

  async function end(caller: Caller, id: string, status: 'completed' | 'failed', reason: string) {
    const now = deps.clock.now();
    // The domain rule first: an overdue task cannot be completed or failed (the sweeper expires it).
    transitionTask(await ownedTask(caller, id), status, now);
    const ended = await deps.store.endTask({ id, status, reason, now, workload: caller.id });
    deps.onCommitted?.();
    const credentials = await awaitTaskRevocations(deps.revoker, ended.activeCredentials);
    log.info({ spiffe_id: caller.id.toString(), task_id: id, status }, 'task ended');
    return Object.freeze({ task: ended.task, credentials });
  }

  return Object.freeze({
    async start(caller: Caller, req: StartTaskRequest): Promise<TaskRecord> {
      const now = deps.clock.now();
      const policy = deps.policy.current();
      const activeTasks = await deps.store.countActiveTasks(caller.id, now);
      const decision = authorizeTask(policy, caller.id, {
        intent: req.intent.name,
        manifest: req.manifest,
        ttlSeconds: req.ttlSeconds,
        activeTasks,
      });
      if (!decision.allowed) {
        throw await refuseStart(caller.id, now, denialError(decision), decision);
      }
      if (req.parent !== undefined) await ownedTask(caller, req.parent);
      try {
        const task = await deps.store.createTask({
          id: deps.ids.newId(),
          workload: caller.id,
          intent: { name: req.intent.name, text: req.intent.text ?? '' },
          manifest: req.manifest,
          deadline: new Date(now.getTime() + decision.lifetimeSeconds * 1000),
          parent: req.parent ?? null,
          now,
          maxActiveTasks: policy.rules.find((r) => r.name === decision.rule)?.quotas.activeTasks,
          rule: decision.rule,
        });
        deps.onCommitted?.();
        log.info({ spiffe_id: caller.id.toString(), task_id: task.id }, 'task started');
        return task;
      } catch (err) {
        if (err instanceof BrokerError && err.code === 'BROKER_POLICY_QUOTA_EXCEEDED') {
          const denial = { why: 'quota', reason: 'active tasks quota reached', rule: decision.rule };
          throw await refuseStart(caller.id, now, err, denial);
        }
        if (err instanceof BrokerError && err.code === 'BROKER_WORKLOAD_QUARANTINED') {
          const denial = { why: 'quarantine', reason: 'workload is quarantined', rule: decision.rule };
          throw await refuseStart(caller.id, now, err, denial);
        }
        throw err;
      }
    },
    async get(caller: Caller, id: string): Promise<TaskRecord> {
      const task = await ownedTask(caller, id);
      const status = effectiveTaskStatus(task, deps.clock.now());
      return status === task.status ? task : Object.freeze({ ...task, status });
    },
    complete: (caller: Caller, id: string, reason = 'completed by workload') =>
      end(caller, id, 'completed', reason),
    fail: (caller: Caller, id: string, reason = 'failed by workload') => end(caller, id, 'failed', reason),
    async list(caller: Caller, filter: TaskFilter): Promise<Page<TaskRecord>> {
      const role = authorizeRole(deps.policy.current(), caller.id, 'operator');
      if (!role.allowed) throw new BrokerError('BROKER_POLICY_DENIED');
      return deps.store.listTasks(filter);
    },
  });
}
