import type { ImmediateOutcome } from '../revocation/revocation-worker.js';
import type { CredentialRecord } from '../store/issuance-store.js';

/** What became of an ended task's credentials by the time its call answered. */
export interface RevokeOutcome {
  /** Revoked at their backends (and marked in the store, with their ledger events). */
  readonly revoked: readonly string[];
  /** Still in the durable revocation queue: retried with backoff until they succeed or expire. */
  readonly pending: readonly string[];
  /** `expires-only` credentials: nothing can kill them, their TTL bounds them (DESIGN, Credential provider). */
  readonly expiresOnly: readonly string[];
}

/** The part of the revocation worker a task ending needs. */
export interface Revoker {
  revokeNow(credentialIds: readonly string[]): Promise<ReadonlyMap<string, ImmediateOutcome>>;
}

/**
 * Attempts the backend revocations a task ending has just queued (DESIGN invariant 3). The store
 * queued them in the transaction that ended the task, so nothing here can lose one: this only asks
 * the worker to try them now and waits (bounded) for the answer, so that the common case — a backend
 * that answers — is revoked before the workload's `complete`/`fail` call returns. A backend that
 * fails leaves its credential `pending` in the queue, retried with backoff, `revoke_failed` after
 * the retry budget, never dropped.
 */
export async function awaitTaskRevocations(
  revoker: Revoker,
  credentials: readonly CredentialRecord[],
): Promise<RevokeOutcome> {
  const expiresOnly = credentials.filter((c) => c.revocability === 'expires-only').map((c) => c.id);
  const queued = credentials.filter((c) => c.revocability !== 'expires-only').map((c) => c.id);
  const outcomes = await revoker.revokeNow(queued);
  const revoked = queued.filter((id) => outcomes.get(id) === 'revoked');
  const pending = queued.filter((id) => outcomes.get(id) !== 'revoked');
  return Object.freeze({ revoked, pending, expiresOnly });
}
