import type { Logger } from 'pino';
import type { ProviderRegistry } from '../../adapters/registry.js';
import { BrokerError } from '../errors.js';
import type { CredentialRecord, IssuanceStore } from '../store/issuance-store.js';

/** What {@link revokeTaskCredentials} needs. */
export interface RevokeDeps {
  readonly store: Pick<IssuanceStore, 'markCredentials'>;
  readonly providers: Pick<ProviderRegistry, 'has' | 'get'>;
  readonly logger: Logger;
}

/** The outcome: credential ids by what happened to them. */
export interface RevokeOutcome {
  readonly revoked: readonly string[];
  readonly failed: readonly string[];
  /** `expires-only` credentials: nothing can kill them, their TTL bounds them (DESIGN, Credential provider). */
  readonly expiresOnly: readonly string[];
}

/**
 * Revokes the credentials a task still had active when it ended (DESIGN invariant 3): each revocable
 * one at its backend, then marked `revoked` in the store (one ledger event each; for the `jwt`
 * provider the store's mark is the revocation, which introspection reads). A backend that fails is
 * marked `revoke_failed`, never dropped; the durable retry queue is the revocation engine's (issue 4).
 *
 * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` when the marks cannot be written (the task has
 *   already ended, so introspection reports its tokens inactive regardless).
 */
export async function revokeTaskCredentials(
  deps: RevokeDeps,
  credentials: readonly CredentialRecord[],
  reason: string,
  now: Date,
): Promise<RevokeOutcome> {
  const revoked: string[] = [];
  const failed: string[] = [];
  const expiresOnly: string[] = [];
  await Promise.all(
    credentials.map(async (credential) => {
      if (credential.revocability === 'expires-only') return void expiresOnly.push(credential.id);
      try {
        if (!deps.providers.has(credential.provider)) {
          throw new BrokerError('BROKER_ADAPTER_UNKNOWN_PROVIDER', credential.provider);
        }
        await deps.providers.get(credential.provider).revoke({ handle: credential.revocationHandle, now });
        revoked.push(credential.id);
      } catch (err) {
        const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
        deps.logger.error(
          { issuance_id: credential.id, adapter: credential.provider, err_code: code },
          'backend revocation failed',
        );
        failed.push(credential.id);
      }
    }),
  );
  if (revoked.length > 0) await deps.store.markCredentials({ ids: revoked, outcome: 'revoked', reason, now });
  if (failed.length > 0)
    await deps.store.markCredentials({ ids: failed, outcome: 'revoke_failed', reason, now });
  return Object.freeze({ revoked, failed, expiresOnly });
}
