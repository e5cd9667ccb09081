import {
  checkIssueRequest,
  type CredentialAdapter,
  type HandleContext,
  type RenewContext,
} from '../credential-adapter.js';
import { BrokerError } from '../../broker/errors.js';
import { adapterKind, type AdapterKind } from '../registry.js';
import { VaultSession, type VaultSessionDeps } from './auth.js';
import type { VaultBackend } from './backend.js';
import { VaultClient } from './client.js';
import { parseVaultProviderConfig, type VaultProviderConfig } from './config.js';
import { issueDynamic, renewDynamic, revokeDynamic, verifyDynamic } from './dynamic-mode.js';
import { parseVaultHandle, type VaultHandle } from './handle.js';
import { issueToken, renewToken, revokeToken, verifyToken } from './token-mode.js';

/** The `kind` of Vault (and OpenBao) providers in configuration. */
export const VAULT_ADAPTER_KIND = 'vault';

/** What the `vault` adapter needs from the broker. */
export type VaultAdapterDeps = VaultSessionDeps;

/**
 * Creates the `vault` adapter (docs/providers/vault.md): per provider, either Vault tokens (`mode:
 * token`) or dynamic secrets from a secrets engine path (`mode: dynamic`), optionally response-wrapped.
 * Revocability is `revocable`: tokens are revoked by accessor, leases through `sys/leases/revoke`
 * and their lease-holder token, and `verifyRevoked` asks Vault (lookup by accessor, lease lookup).
 *
 * Each provider instance keeps its own client and broker session (login, cached token, renewal),
 * created at its first call; instances never share a token.
 */
export function createVaultAdapter(
  deps: VaultAdapterDeps,
): CredentialAdapter<VaultProviderConfig, VaultHandle> {
  const backends = new WeakMap<VaultProviderConfig, VaultBackend>();
  const backendFor = (config: VaultProviderConfig): VaultBackend => {
    let backend = backends.get(config);
    if (backend === undefined) {
      const client = new VaultClient({
        address: config.address,
        timeoutMs: config.timeoutMs,
        ...(config.namespace !== undefined && { namespace: config.namespace }),
      });
      backend = Object.freeze({ client, session: new VaultSession(client, config.auth, deps) });
      backends.set(config, backend);
    }
    return backend;
  };
  return Object.freeze({
    kind: VAULT_ADAPTER_KIND,
    revocability: 'revocable' as const,
    parseConfig: (raw: unknown) => parseVaultProviderConfig(raw, deps.jwtSvid !== undefined),
    parseHandle: parseVaultHandle,
    async issue(ctx) {
      checkIssueRequest(ctx);
      const backend = backendFor(ctx.config);
      return ctx.config.mode === 'token' ? issueToken(backend, ctx) : issueDynamic(backend, ctx);
    },
    async revoke({ config, handle }: HandleContext<VaultProviderConfig, VaultHandle>) {
      if (handle.kind === 'token') return revokeToken(backendFor(config), handle);
      return revokeDynamic(backendFor(config), handle);
    },
    async renew({ config, handle, now, ttlSeconds }: RenewContext<VaultProviderConfig, VaultHandle>) {
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
        throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'ttl must be a positive whole number of seconds');
      }
      if (handle.kind === 'token') return renewToken(backendFor(config), handle, now, ttlSeconds);
      return renewDynamic(backendFor(config), handle, now, ttlSeconds);
    },
    async verifyRevoked({ config, handle }: HandleContext<VaultProviderConfig, VaultHandle>) {
      if (handle.kind === 'token') return verifyToken(backendFor(config), handle);
      return verifyDynamic(backendFor(config), handle);
    },
  } satisfies CredentialAdapter<VaultProviderConfig, VaultHandle>);
}

/** The `vault` provider kind for the registry (`createProviderRegistry`, `createApp`'s default kinds). */
export function vaultAdapterKind(deps: VaultAdapterDeps): AdapterKind {
  return adapterKind(createVaultAdapter(deps));
}

export { parseVaultProviderConfig, type VaultProviderConfig } from './config.js';
export {
  parseVaultHandle,
  type VaultHandle,
  type VaultLeaseHandle,
  type VaultTokenHandle,
} from './handle.js';
export { VaultClient, VaultRequestError, type VaultRequest } from './client.js';
export { VaultSession, type JwtSvidSource } from './auth.js';
