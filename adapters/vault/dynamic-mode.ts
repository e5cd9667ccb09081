import { BrokerError } from '../../broker/errors.js';
import type {
  IssueContext,
  IssuedCredential,
  JsonObject,
  JsonValue,
  RenewedCredential,
  RevocationCheck,
} from '../credential-adapter.js';
import {
  checkLifetime,
  createOrphan,
  lookupAccessor,
  lookupLease,
  policiesFor,
  renewAccessor,
  renewLease,
  revokeAccessor,
  revokeLease,
  undo,
  type VaultBackend,
} from './backend.js';
import { VaultRequestError, type VaultAnswer } from './client.js';
import type { VaultDynamicSource, VaultProviderConfig } from './config.js';
import type { VaultLeaseHandle } from './handle.js';
import { parseAuth, parseLeasedSecret, parseWrapInfo, stringField, type VaultAuth } from './response.js';
import { tokenRequest, wrapTtlFor } from './token-mode.js';

const HOLDER_WHERE = 'vault POST auth/token/create-orphan (lease holder)';

/** `params` with every string `{{ttl}}` replaced by the credential TTL (`"300s"`). */
function withTtl(value: JsonValue, ttl: string): JsonValue {
  if (value === '{{ttl}}') return ttl;
  if (Array.isArray(value)) return value.map((v: JsonValue) => withTtl(v, ttl));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withTtl(v, ttl)]));
  }
  return value;
}

/**
 * Creates the per-issuance lease-holder: an orphan token with the provider's and the scopes'
 * policies, the credential's TTL (and, unless renewable, the same explicit maximum), no default
 * policy. Only the broker ever holds it, for the one read. Vault revokes every lease a token created
 * when the token is revoked or expires, so the lease cannot outlive the credential's bound even when
 * the engine role's `default_ttl` is longer.
 */
async function createHolder(
  backend: VaultBackend,
  ctx: IssueContext<VaultProviderConfig>,
): Promise<VaultAuth> {
  const { config } = ctx;
  const body = {
    ...tokenRequest(config, ctx, policiesFor(config, ctx.scopes), 'lease-holder'),
    display_name: `${config.displayName}-lease-holder`,
    no_default_policy: true,
  };
  const answer = await createOrphan(backend, body);
  try {
    const holder = parseAuth(answer, HOLDER_WHERE);
    if (holder.accessor === '')
      throw new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${HOLDER_WHERE}: no accessor`);
    checkLifetime(holder.leaseDuration, ctx.ttlSeconds, HOLDER_WHERE);
    return holder;
  } catch (err) {
    const accessor = stringField(answer?.['auth'], 'accessor');
    return undo(err, accessor === undefined ? [] : [() => revokeAccessor(backend, accessor)]);
  }
}

function read(backend: VaultBackend, source: VaultDynamicSource, token: string, ttl: number, wrap?: number) {
  return backend.client.request({
    method: source.method,
    path: source.path,
    token,
    ...(source.method === 'POST' && { body: withTtl(source.params, `${ttl}s`) as JsonObject }),
    ...(wrap !== undefined && { wrapTtlSeconds: wrap }),
  });
}

/**
 * Dynamic mode: reads the provider's engine path (GET, or POST with `params`) with a fresh
 * lease-holder token and returns, as the secret, the JSON text of the answer's `data` object exactly
 * as the engine gave it (e.g. `{"username":"v-…","password":"…"}` for `database/creds/ROLE`,
 * `{"access_key":…,"secret_key":…,"security_token":…}` for `aws/creds/ROLE`). The handle keeps the
 * lease id and the holder's accessor. The expiry is the earlier of the lease's and the holder's.
 *
 * With wrapping, the workload receives the single-use wrapping token and unwraps the whole answer
 * itself (`sys/wrapping/unwrap`). `wrap_info` carries no lease id, so the handle keeps only the
 * holder's accessor: revoking the holder is how the lease is revoked (Vault marks the token's leases
 * expired and revokes them in its background queue).
 *
 * If the read fails or its answer is unusable, the holder (and the lease, when known) is revoked,
 * which also revokes a lease created by a read whose answer was lost.
 */
export async function issueDynamic(
  backend: VaultBackend,
  ctx: IssueContext<VaultProviderConfig>,
): Promise<IssuedCredential<VaultLeaseHandle>> {
  const { config } = ctx;
  const source = config.dynamic!;
  const holder = await createHolder(backend, ctx);
  const wrap = wrapTtlFor(config, ctx.ttlSeconds);
  let answer: VaultAnswer = undefined;
  try {
    answer = await read(backend, source, holder.clientToken, ctx.ttlSeconds, wrap);
    const where = `vault ${source.method} ${source.path}`;
    if (wrap !== undefined) {
      const info = parseWrapInfo(answer, where);
      const expiresAt = new Date(ctx.now.getTime() + holder.leaseDuration * 1000);
      const handle = leaseHandle(null, holder.accessor, false, expiresAt);
      return { secret: info.token, handle, expiresAt, renewable: false };
    }
    const secret = parseLeasedSecret(answer, where);
    const lifetime = Math.min(secret.leaseDuration, holder.leaseDuration);
    const expiresAt = new Date(ctx.now.getTime() + lifetime * 1000);
    const renewable = config.renewable && holder.renewable && secret.renewable;
    const handle = leaseHandle(secret.leaseId, holder.accessor, renewable, expiresAt);
    return { secret: JSON.stringify(secret.data), handle, expiresAt, renewable };
  } catch (err) {
    const leaseId = stringField(answer, 'lease_id');
    const cleanups = [() => revokeAccessor(backend, holder.accessor)];
    if (leaseId !== undefined) cleanups.unshift(() => revokeLease(backend, leaseId));
    return undo(err, cleanups);
  }
}

function leaseHandle(leaseId: string | null, holderAccessor: string, renewable: boolean, expiresAt: Date) {
  return Object.freeze({
    kind: 'lease' as const,
    leaseId,
    holderAccessor,
    renewable,
    expiresAt: expiresAt.toISOString(),
  });
}

/**
 * Revokes the lease at once (`sys/leases/revoke` with `sync`), then the lease-holder token
 * (`auth/token/revoke-accessor`), which takes any other lease it created with it. Idempotent.
 */
export async function revokeDynamic(backend: VaultBackend, handle: VaultLeaseHandle): Promise<void> {
  if (handle.leaseId !== null) await revokeLease(backend, handle.leaseId);
  await revokeAccessor(backend, handle.holderAccessor);
}

/**
 * Confirmed when `sys/leases/lookup` says `invalid lease` and the holder's accessor is invalid; for a
 * wrapped secret (no lease id) when the holder is gone, whose leases Vault revokes with it.
 */
export async function verifyDynamic(
  backend: VaultBackend,
  handle: VaultLeaseHandle,
): Promise<RevocationCheck> {
  const holder = await lookupAccessor(backend, handle.holderAccessor);
  if (handle.leaseId === null) {
    return { confirmed: !holder.alive, detail: `lease holder: ${holder.detail} (wrapped: lease id unknown)` };
  }
  const lease = await lookupLease(backend, handle.leaseId);
  return {
    confirmed: !lease.alive && !holder.alive,
    detail: `lease: ${lease.detail}; lease holder: ${holder.detail}`,
  };
}

/**
 * Renews the holder (`auth/token/renew-accessor`) and then the lease (`sys/leases/renew`) by the
 * TTL; the new expiry is the earlier of the two.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_RENEW_UNSUPPORTED` for a lease issued not renewable (the
 *   provider's `renewable: false`, a non-renewable engine lease, or a wrapped secret).
 */
export async function renewDynamic(
  backend: VaultBackend,
  handle: VaultLeaseHandle,
  now: Date,
  ttlSeconds: number,
): Promise<RenewedCredential<VaultLeaseHandle>> {
  if (!handle.renewable || handle.leaseId === null) {
    throw new BrokerError('BROKER_ADAPTER_RENEW_UNSUPPORTED', 'lease was issued not renewable');
  }
  const leaseId = handle.leaseId;
  const holderLife = await renewAccessor(backend, handle.holderAccessor, ttlSeconds);
  try {
    checkLifetime(holderLife, ttlSeconds, 'vault POST auth/token/renew-accessor (lease holder)');
  } catch (err) {
    return undo(err, [
      () => revokeLease(backend, leaseId),
      () => revokeAccessor(backend, handle.holderAccessor),
    ]);
  }
  const lifetime = Math.min(holderLife, await renewLease(backend, leaseId, holderLife));
  if (lifetime <= 0) {
    throw new VaultRequestError(
      'BROKER_ADAPTER_BACKEND_MALFORMED',
      'vault PUT sys/leases/renew: no lifetime left',
    );
  }
  const expiresAt = new Date(now.getTime() + lifetime * 1000);
  return { handle: leaseHandle(leaseId, handle.holderAccessor, true, expiresAt), expiresAt };
}
