import { BrokerError } from '../../broker/errors.js';
import type {
  IssueContext,
  IssuedCredential,
  RenewedCredential,
  RevocationCheck,
} from '../credential-adapter.js';
import {
  checkLifetime,
  createOrphan,
  lookupAccessor,
  policiesFor,
  renewAccessor,
  revokeAccessor,
  taskMeta,
  undo,
  type VaultBackend,
} from './backend.js';
import { VaultRequestError, type VaultAnswer } from './client.js';
import type { VaultProviderConfig } from './config.js';
import type { VaultTokenHandle } from './handle.js';
import { accessorIn, parseAuth, parseWrapInfo } from './response.js';

const WHERE = 'vault POST auth/token/create-orphan';

/** The `auth/token/create-orphan` body of a workload token (or of a lease-holder token). */
export function tokenRequest(
  config: VaultProviderConfig,
  ctx: IssueContext<unknown>,
  policies: readonly string[],
  role: string,
) {
  const ttl = ctx.ttlSeconds;
  // Not renewable: the TTL is also the explicit maximum, so nobody (the workload included) can
  // extend it. Renewable: the configured explicit maximum caps every renewal.
  const explicitMax = config.renewable ? (config.explicitMaxTtlSeconds ?? ttl) : ttl;
  return {
    policies: [...policies],
    meta: taskMeta(ctx, role),
    ttl: `${ttl}s`,
    explicit_max_ttl: `${explicitMax}s`,
    renewable: config.renewable,
    display_name: config.displayName,
  };
}

/** The wrapping TTL of a request: the configured one, never beyond the credential's TTL. */
export function wrapTtlFor(config: VaultProviderConfig, ttlSeconds: number): number | undefined {
  return config.wrapTtlSeconds === undefined ? undefined : Math.min(config.wrapTtlSeconds, ttlSeconds);
}

/**
 * Token mode: mints an orphan token (`auth/token/create-orphan`, so it does not die with the
 * broker's own token) with the provider's and the scopes' policies, `ttl` = the credential TTL,
 * `explicit_max_ttl`, optional `num_uses`, and `meta` naming the task and workload. The handle keeps
 * the accessor only. With wrapping, the workload receives the single-use wrapping token; the accessor
 * comes from `wrap_info.wrapped_accessor` and the token's real TTL from a lookup by accessor.
 * Anything created by a call whose answer is unusable is revoked before the error is thrown.
 */
export async function issueToken(
  backend: VaultBackend,
  ctx: IssueContext<VaultProviderConfig>,
): Promise<IssuedCredential<VaultTokenHandle>> {
  const { config } = ctx;
  const body = {
    ...tokenRequest(config, ctx, policiesFor(config, ctx.scopes), 'workload-token'),
    num_uses: config.numUses,
    no_default_policy: config.noDefaultPolicy,
  };
  const wrap = wrapTtlFor(config, ctx.ttlSeconds);
  const answer = await createOrphan(backend, body, wrap);
  try {
    const { secret, accessor, lifetime, renewable } = await readToken(backend, answer, wrap !== undefined);
    checkLifetime(lifetime, ctx.ttlSeconds, WHERE);
    const expiresAt = new Date(ctx.now.getTime() + lifetime * 1000);
    const handle = Object.freeze({
      kind: 'token' as const,
      accessor,
      renewable: config.renewable && renewable,
      expiresAt: expiresAt.toISOString(),
    });
    return { secret, handle, expiresAt, renewable: handle.renewable };
  } catch (err) {
    const accessor = accessorIn(answer);
    return undo(err, accessor === undefined ? [] : [() => revokeAccessor(backend, accessor)]);
  }
}

async function readToken(backend: VaultBackend, answer: VaultAnswer, wrapped: boolean) {
  if (!wrapped) {
    const auth = parseAuth(answer, WHERE);
    if (auth.accessor === '')
      throw new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${WHERE}: no accessor`);
    return {
      secret: auth.clientToken,
      accessor: auth.accessor,
      lifetime: auth.leaseDuration,
      renewable: auth.renewable,
    };
  }
  const info = parseWrapInfo(answer, WHERE);
  if (info.wrappedAccessor === '') {
    throw new VaultRequestError(
      'BROKER_ADAPTER_BACKEND_MALFORMED',
      `${WHERE}: wrap_info has no wrapped_accessor`,
    );
  }
  // The wrapped answer is the workload's to open; its TTL is read by accessor, without the token.
  const found = await lookupAccessor(backend, info.wrappedAccessor);
  if (!found.alive || found.ttl === undefined) {
    throw new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${WHERE}: wrapped token not found`);
  }
  return { secret: info.token, accessor: info.wrappedAccessor, lifetime: found.ttl, renewable: true };
}

/** Revokes the token by accessor (`auth/token/revoke-accessor`); idempotent. */
export function revokeToken(backend: VaultBackend, handle: VaultTokenHandle): Promise<void> {
  return revokeAccessor(backend, handle.accessor);
}

/** Confirmed when `auth/token/lookup-accessor` says `invalid accessor` (or `bad token`). */
export async function verifyToken(backend: VaultBackend, handle: VaultTokenHandle): Promise<RevocationCheck> {
  const found = await lookupAccessor(backend, handle.accessor);
  return { confirmed: !found.alive, detail: found.detail };
}

/**
 * Renews by accessor (`auth/token/renew-accessor`) to `now + ttlSeconds` at most.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_RENEW_UNSUPPORTED` for a token issued not renewable;
 *   `BROKER_ADAPTER_BACKEND_MALFORMED` (after revoking it) when Vault extends it beyond the TTL.
 */
export async function renewToken(
  backend: VaultBackend,
  handle: VaultTokenHandle,
  now: Date,
  ttlSeconds: number,
): Promise<RenewedCredential<VaultTokenHandle>> {
  if (!handle.renewable)
    throw new BrokerError('BROKER_ADAPTER_RENEW_UNSUPPORTED', 'token was issued not renewable');
  const granted = await renewAccessor(backend, handle.accessor, ttlSeconds);
  try {
    checkLifetime(granted, ttlSeconds, 'vault POST auth/token/renew-accessor');
  } catch (err) {
    return undo(err, [() => revokeAccessor(backend, handle.accessor)]);
  }
  const expiresAt = new Date(now.getTime() + granted * 1000);
  return { handle: Object.freeze({ ...handle, expiresAt: expiresAt.toISOString() }), expiresAt };
}
