import type { RevocationResult, RevokedCredentialView } from '../api/ports.js';
import { exposedUntil } from '../store/exposure.js';
import type { CredentialDisposition } from '../store/revocation-store.js';
import type { TaskRecord } from '../store/issuance-store.js';
import type { ImmediateOutcome } from './revocation-worker.js';

/** The outcome shown for one credential: what the transaction did, then what its first attempt did. */
function outcomeOf(
  d: CredentialDisposition,
  immediate: ReadonlyMap<string, ImmediateOutcome>,
): RevokedCredentialView['outcome'] {
  switch (d.disposition) {
    case 'queued':
      return immediate.get(d.credential.id) ?? 'pending';
    case 'revoked':
      return 'revoked';
    // Expires-only, or already past its expiry: nothing to revoke, exposed until `expiresAt` at most.
    case 'not_revocable':
    case 'expired':
      return 'not_revocable';
  }
}

/**
 * The answer of a revocation (the port's {@link RevocationResult}): every credential the call touched
 * with its outcome, the counts, and when the exposure of the expires-only ones ends.
 */
export function revocationResult(
  revocationId: string,
  tasks: readonly TaskRecord[],
  dispositions: readonly CredentialDisposition[],
  immediate: ReadonlyMap<string, ImmediateOutcome>,
  now: Date,
): RevocationResult {
  const credentials = dispositions.map((d): RevokedCredentialView => ({
    id: d.credential.id,
    taskId: d.credential.taskId,
    provider: d.credential.provider,
    outcome: outcomeOf(d, immediate),
    expiresAt: d.credential.expiresAt,
  }));
  const count = (o: RevokedCredentialView['outcome']) => credentials.filter((c) => c.outcome === o).length;
  return Object.freeze({
    revocationId,
    tasks: tasks.map((t) => t.id),
    credentials,
    counts: { revoked: count('revoked'), pending: count('pending'), notRevocable: count('not_revocable') },
    exposedUntil: exposedUntil(dispositions, now),
  });
}
