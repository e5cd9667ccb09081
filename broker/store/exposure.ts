import type { JsonObject } from '../ledger/canonical-json.js';
import type { CredentialDisposition } from './revocation-store.js';

/**
 * When the exposure of `dispositions` ends: the latest expiry of the `not_revocable` credentials
 * still alive at `now`, or null when none is (an expires-only credential is bounded by its TTL alone).
 */
export function exposedUntil(dispositions: readonly CredentialDisposition[], now: Date): Date | null {
  let latest: Date | null = null;
  for (const { credential, disposition } of dispositions) {
    if (disposition !== 'not_revocable' || credential.expiresAt <= now) continue;
    if (latest === null || credential.expiresAt > latest) latest = credential.expiresAt;
  }
  return latest;
}

/**
 * The ledger details of what a task ending did with its credentials (ISSUE 4: a credential that
 * cannot be revoked is reported with its remaining exposure in the ledger): how many were active,
 * how many went to the durable queue, and each expires-only one with the instant its exposure ends.
 */
export function revocationDetails(dispositions: readonly CredentialDisposition[], now: Date): JsonObject {
  const until = exposedUntil(dispositions, now);
  return {
    active_credentials: dispositions.length,
    queued: dispositions.filter((d) => d.disposition === 'queued').length,
    not_revocable: dispositions
      .filter((d) => d.disposition === 'not_revocable')
      .map(({ credential }) => ({
        credential_id: credential.id,
        provider: credential.provider,
        exposed_until: credential.expiresAt.toISOString(),
      })),
    exposed_until: until === null ? null : until.toISOString(),
  };
}
