import { BrokerError } from '../errors.js';

/**
 * An issued credential's status (DESIGN.md, Concepts: Credential). `revoke_failed` is not final: the
 * durable revocation queue retries it until it becomes `revoked` or the credential expires
 * (DESIGN invariant 3: a failed revocation is never silently dropped).
 */
export type CredentialStatus = 'active' | 'revoked' | 'expired' | 'revoke_failed';

/**
 * Whether a provider can kill a credential before its expiry (DESIGN.md, Concepts: Credential provider).
 * An `expires-only` credential's exposure is bounded by its TTL alone, which is why invariant 2 keeps
 * every TTL as short as the task allows.
 */
export type Revocability = 'revocable' | 'expires-only';

/** One minted credential, as the broker records it. The secret itself is never part of it. */
export interface Credential {
  readonly id: string;
  readonly taskId: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly revocability: Revocability;
  readonly status: CredentialStatus;
}

const ALLOWED: Readonly<Record<CredentialStatus, readonly CredentialStatus[]>> = Object.freeze({
  active: ['revoked', 'expired', 'revoke_failed'],
  // A retry may succeed, fail again (another attempt recorded), or be overtaken by expiry.
  revoke_failed: ['revoked', 'revoke_failed', 'expired'],
  revoked: [],
  expired: [],
});

/** True when a credential in `status` can no longer be used (it is revoked or past its expiry). */
export function isCredentialFinal(status: CredentialStatus): boolean {
  return status === 'revoked' || status === 'expired';
}

/**
 * Returns `credential` moved to `to`, as a new frozen value.
 *
 * Allowed: `active` → `revoked` | `expired` | `revoke_failed`; `revoke_failed` → `revoked` |
 * `revoke_failed` | `expired`. `revoked` and `expired` are final. An `expires-only` credential cannot
 * be `revoked` or `revoke_failed`: only expiry ends it, and the ledger must not claim otherwise.
 *
 * @throws {BrokerError} `BROKER_ISSUANCE_BAD_TRANSITION` for any other move (nothing changes,
 * DESIGN invariant 5).
 */
export function transitionCredential(credential: Credential, to: CredentialStatus): Credential {
  if (!ALLOWED[credential.status].includes(to)) {
    throw new BrokerError('BROKER_ISSUANCE_BAD_TRANSITION', `${credential.status} -> ${to}`);
  }
  if (credential.revocability === 'expires-only' && to !== 'expired') {
    throw new BrokerError('BROKER_ISSUANCE_BAD_TRANSITION', `expires-only credential cannot become ${to}`);
  }
  return Object.freeze({ ...credential, status: to });
}
