import { BrokerError } from '../../broker/errors.js';

/**
 * The revocation handle of a Vault token (token mode): its accessor, which can look the token up,
 * renew and revoke it, but cannot be used as the token.
 */
export type VaultTokenHandle = {
  readonly kind: 'token';
  readonly accessor: string;
  readonly renewable: boolean;
  readonly expiresAt: string;
};

/**
 * The revocation handle of a dynamic secret: its lease id (null when the answer was wrapped, as
 * Vault's `wrap_info` does not carry it) and the accessor of the per-issuance lease-holder token that
 * read it, whose revocation makes Vault revoke every lease it created.
 */
export type VaultLeaseHandle = {
  readonly kind: 'lease';
  readonly leaseId: string | null;
  readonly holderAccessor: string;
  readonly renewable: boolean;
  readonly expiresAt: string;
};

/** Either handle; the `kind` says which. */
export type VaultHandle = VaultTokenHandle | VaultLeaseHandle;

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.trim() === value;
}

/**
 * Validates a stored `vault` handle.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
 */
export function parseVaultHandle(raw: unknown): VaultHandle {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const h = raw as Record<string, unknown>;
    const common = typeof h['renewable'] === 'boolean' && typeof h['expiresAt'] === 'string';
    if (common && !Number.isNaN(Date.parse(h['expiresAt'] as string))) {
      const renewable = h['renewable'] as boolean;
      const expiresAt = h['expiresAt'] as string;
      if (h['kind'] === 'token' && nonEmpty(h['accessor'])) {
        return Object.freeze({ kind: 'token', accessor: h['accessor'], renewable, expiresAt });
      }
      const leaseId = h['leaseId'];
      if (h['kind'] === 'lease' && nonEmpty(h['holderAccessor']) && (leaseId === null || nonEmpty(leaseId))) {
        return Object.freeze({
          kind: 'lease',
          leaseId,
          holderAccessor: h['holderAccessor'],
          renewable,
          expiresAt,
        });
      }
    }
  }
  throw new BrokerError(
    'BROKER_ADAPTER_BAD_HANDLE',
    'expected {kind: token, accessor, …} or {kind: lease, leaseId, holderAccessor, …}',
  );
}
