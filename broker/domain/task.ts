import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError } from '../errors.js';

/** A task's lifecycle status (DESIGN.md, Concepts: Task). Every status but `active` is final. */
export type TaskStatus = 'active' | 'completed' | 'failed' | 'expired' | 'revoked';

/** The statuses that end a task. Ending a task revokes every credential it minted (DESIGN invariant 3). */
export const ENDED_TASK_STATUSES: readonly TaskStatus[] = Object.freeze([
  'completed',
  'failed',
  'expired',
  'revoked',
]);

/** Why a task exists: a name the policy knows, plus free text for humans and the ledger. */
export interface TaskIntent {
  readonly name: string;
  readonly text: string;
}

/** One entry of a task's manifest: a provider and the exact scopes the task declares it will need. */
export interface ManifestEntry {
  readonly provider: string;
  readonly scopes: readonly string[];
}

/**
 * The unit of work of one workload (DESIGN.md, Concepts: Task): an immutable value. A status change
 * produces a new value through {@link transitionTask}; nothing mutates a task in place.
 */
export interface Task {
  readonly id: string;
  /** The SPIFFE ID of the workload that owns the task. Only it may use the task. */
  readonly workload: SpiffeId;
  readonly intent: TaskIntent;
  readonly manifest: readonly ManifestEntry[];
  readonly createdAt: Date;
  /** After this instant the task is over, whatever its stored status says. */
  readonly deadline: Date;
  /** The delegating task's id, or `null` for a root task. */
  readonly parent: string | null;
  readonly status: TaskStatus;
}

/** True when `status` ends a task. */
export function isEndedStatus(status: TaskStatus): boolean {
  return status !== 'active';
}

/**
 * The status a task has at `now`: its stored status, except that an `active` task whose deadline has
 * passed is `expired` even before the sweeper records it. Callers decide with this, never with the
 * stored status alone, so a late sweeper never extends a task's life.
 */
export function effectiveTaskStatus(task: Task, now: Date): TaskStatus {
  if (task.status === 'active' && now.getTime() >= task.deadline.getTime()) return 'expired';
  return task.status;
}

/**
 * Returns `task` moved to status `to` at `now`, as a new frozen value. The allowed moves:
 *
 * - `active` → `completed` | `failed` | `revoked` while the deadline has not passed;
 * - `active` → `expired` once the deadline has passed (the sweeper's move);
 * - `active` → `revoked` also after the deadline (an operator may revoke a task the sweeper missed);
 * - nothing leaves an ended status, and nothing moves back to `active`.
 *
 * Refusals change nothing (DESIGN invariant 5).
 *
 * @throws {BrokerError} `BROKER_TASK_ALREADY_ENDED` when the task has ended (or is past its deadline
 * and asked to complete or fail); `BROKER_TASK_BAD_TRANSITION` for a move to `active`, or expiring a
 * task before its deadline.
 */
export function transitionTask(task: Task, to: TaskStatus, now: Date): Task {
  if (to === 'active') throw new BrokerError('BROKER_TASK_BAD_TRANSITION', `${task.status} -> active`);
  if (isEndedStatus(task.status)) {
    throw new BrokerError('BROKER_TASK_ALREADY_ENDED', `task is ${task.status}`);
  }
  const overdue = effectiveTaskStatus(task, now) === 'expired';
  if (to === 'expired' && !overdue) {
    throw new BrokerError('BROKER_TASK_BAD_TRANSITION', 'task deadline has not passed');
  }
  if ((to === 'completed' || to === 'failed') && overdue) {
    throw new BrokerError('BROKER_TASK_ALREADY_ENDED', 'task deadline has passed');
  }
  return Object.freeze({ ...task, status: to });
}

/**
 * Checks that `caller` may use `task` at `now`: it owns the task and the task is active.
 *
 * Another workload's task is answered exactly as a task that does not exist (EXAMPLES.md, Errors:
 * "not found" and "not allowed" are indistinguishable), so task ids cannot be probed.
 *
 * @throws {BrokerError} `BROKER_TASK_NOT_FOUND` for another workload's task;
 * `BROKER_TASK_ALREADY_ENDED` for an ended or overdue task.
 */
export function assertTaskUsableBy(task: Task, caller: SpiffeId, now: Date): void {
  if (!task.workload.equals(caller)) throw new BrokerError('BROKER_TASK_NOT_FOUND');
  const status = effectiveTaskStatus(task, now);
  if (status !== 'active') throw new BrokerError('BROKER_TASK_ALREADY_ENDED', `task is ${status}`);
}

/** The manifest entry for `provider`, if the task declared one. */
export function manifestEntryFor(task: Task, provider: string): ManifestEntry | undefined {
  return task.manifest.find((entry) => entry.provider === provider);
}
