import { BrokerError } from '../../broker/errors.js';
import { awsErrorCode } from './aws-errors.js';
import type { AwsBackend } from './client.js';
import {
  addDeniedSession,
  deniesSession,
  parseDenyPolicy,
  renderDenyPolicy,
  type DenyPolicy,
} from './deny-policy.js';
import { DENY_POLICY_PREFIX, denyPolicyName, taskTagValue } from './names.js';

/**
 * Margin added to a session's expiry before its deny may be deleted: the broker's clock and AWS's may
 * disagree, and deleting a deny while its session still works would un-revoke it.
 */
export const CLOCK_SKEW_SECONDS = 300;
/** Write-then-read rounds before a revocation gives up (another writer kept replacing the policy). */
const WRITE_ROUNDS = 3;

/** What {@link DenyRevocation.cleanupExpiredDenies} did on one role. */
export interface DenyCleanupReport {
  /** Deny policies deleted: every session they named had expired (plus the skew margin). */
  readonly deleted: readonly string[];
  /** Deny policies still needed. */
  readonly kept: readonly string[];
  /** Policies with the taskpass prefix but not in its format: left alone. */
  readonly foreign: readonly string[];
}

/** Whether the deny for one session is in place, and what was seen. */
export interface DenyCheck {
  readonly denied: boolean;
  readonly policyName: string;
  readonly detail: string;
}

function notOurs(roleName: string, name: string): BrokerError {
  return new BrokerError(
    'BROKER_ADAPTER_BACKEND_REJECTED',
    `inline policy ${name} on role ${roleName} is not a taskpass deny policy for this task`,
  );
}

/**
 * Per-task deny policies on IAM roles, the revocation AWS does not offer for role sessions: one inline
 * policy `taskpass-revoke-<task>` per task, denying everything to the task's revoked sessions (matched
 * by their `taskpass:task_id` and `taskpass:session` tags), with the time after which it can go.
 *
 * Writes to one policy are serialized within this process; across broker replicas a read-merge-write
 * can lose a concurrent writer's session, so every write is read back and retried
 * ({@link WRITE_ROUNDS}), and `verifyRevoked` re-checks each session, so a lost one surfaces as not
 * confirmed instead of passing silently.
 */
export class DenyRevocation {
  readonly #locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for `key` has settled. */
  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#locks.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  async #read(backend: AwsBackend, roleName: string, name: string, taskTag: string | undefined) {
    const document = await backend.getRolePolicy(roleName, name);
    if (document === undefined) return undefined;
    const policy = parseDenyPolicy(document);
    if (policy === undefined || (taskTag !== undefined && policy.taskTag !== taskTag)) {
      throw notOurs(roleName, name);
    }
    return policy;
  }

  async #write(backend: AwsBackend, roleName: string, name: string, policy: DenyPolicy, now: Date) {
    try {
      await backend.putRolePolicy(roleName, name, renderDenyPolicy(policy));
    } catch (err) {
      // The role's inline policies are full (IAM's aggregate size quota): free expired denies, once.
      const code = err instanceof BrokerError ? awsErrorCode(err.cause) : '';
      if (code !== 'LimitExceeded' && code !== 'LimitExceededException') throw err;
      await this.cleanupExpiredDenies(backend, roleName, now, name);
      await backend.putRolePolicy(roleName, name, renderDenyPolicy(policy));
    }
  }

  /**
   * Denies `sessionName` of `taskId` on the role until `expiresAt` (epoch seconds, AWS's clock) plus
   * {@link CLOCK_SKEW_SECONDS}. Idempotent: a session already denied costs one read.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_*` from IAM; `BACKEND_REJECTED` when the policy by that
   * name is not ours or the write does not stick.
   */
  denySession(
    backend: AwsBackend,
    roleName: string,
    taskId: string,
    sessionName: string,
    expiresAt: number,
    now: Date,
  ): Promise<void> {
    const name = denyPolicyName(taskId);
    const taskTag = taskTagValue(taskId);
    const cleanupAfter = expiresAt + CLOCK_SKEW_SECONDS;
    return this.#locked(`${roleName}/${name}`, async () => {
      for (let round = 0; round < WRITE_ROUNDS; round++) {
        const current = await this.#read(backend, roleName, name, taskTag);
        if (deniesSession(current, taskTag, sessionName) && current!.cleanupAfter >= cleanupAfter) return;
        await this.#write(
          backend,
          roleName,
          name,
          addDeniedSession(current, taskTag, sessionName, cleanupAfter),
          now,
        );
      }
      throw new BrokerError(
        'BROKER_ADAPTER_BACKEND_REJECTED',
        `deny policy ${name} on role ${roleName} did not keep session ${sessionName} after ${WRITE_ROUNDS} writes`,
      );
    });
  }

  /** Reads whether the deny for `sessionName` of `taskId` is on the role. */
  async check(
    backend: AwsBackend,
    roleName: string,
    taskId: string,
    sessionName: string,
  ): Promise<DenyCheck> {
    const policyName = denyPolicyName(taskId);
    const taskTag = taskTagValue(taskId);
    const document = await backend.getRolePolicy(roleName, policyName);
    const policy = document === undefined ? undefined : parseDenyPolicy(document);
    if (deniesSession(policy, taskTag, sessionName)) {
      return {
        denied: true,
        policyName,
        detail: `role ${roleName} denies session ${sessionName} (${policyName})`,
      };
    }
    const seen =
      document === undefined ? 'no such policy' : policy === undefined ? 'foreign policy' : 'not listed';
    return {
      denied: false,
      policyName,
      detail: `role ${roleName} has no deny for session ${sessionName}: ${seen}`,
    };
  }

  /**
   * Deletes the role's taskpass deny policies whose sessions have all expired by `now` (their cleanup
   * time has passed), skipping `except`. Safe to run at any time and from several replicas: a policy is
   * re-read under its lock before deletion, and an already deleted one is not an error.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_*` from IAM.
   */
  async cleanupExpiredDenies(
    backend: AwsBackend,
    roleName: string,
    now: Date,
    except?: string,
  ): Promise<DenyCleanupReport> {
    const deleted: string[] = [];
    const kept: string[] = [];
    const foreign: string[] = [];
    const names = (await backend.listRolePolicies(roleName)).filter(
      (n) => n.startsWith(DENY_POLICY_PREFIX) && n !== except,
    );
    for (const name of names) {
      await this.#locked(`${roleName}/${name}`, async () => {
        const document = await backend.getRolePolicy(roleName, name);
        if (document === undefined) return;
        const policy = parseDenyPolicy(document);
        if (policy === undefined) return void foreign.push(name);
        if (policy.cleanupAfter * 1000 > now.getTime()) return void kept.push(name);
        await backend.deleteRolePolicy(roleName, name);
        deleted.push(name);
      });
    }
    return Object.freeze({ deleted, kept, foreign });
  }
}
