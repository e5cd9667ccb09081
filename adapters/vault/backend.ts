import { BrokerError } from '../../broker/errors.js';
import type { IssueContext, JsonObject } from '../credential-adapter.js';
import type { VaultSession } from './auth.js';
import { VaultRequestError, type VaultAnswer, type VaultClient } from './client.js';
import type { VaultProviderConfig } from './config.js';
import { lookupTtl, parseAuth, parseLeaseRenewal } from './response.js';

/** One configured Vault: its client and the broker's session there. */
export interface VaultBackend {
  readonly client: VaultClient;
  readonly session: VaultSession;
}

/** What a lookup found: whether Vault still holds the token or lease, and what it said. */
export interface VaultLookup {
  readonly alive: boolean;
  /** Remaining seconds when alive. */
  readonly ttl: number | undefined;
  readonly detail: string;
}

/**
 * The Vault policies of a credential: the provider's `policies` plus those of each requested scope.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` naming the scopes the provider cannot express.
 */
export function policiesFor(config: VaultProviderConfig, scopes: readonly string[]): string[] {
  const unknown = scopes.filter((s) => !Object.hasOwn(config.scopes, s));
  if (unknown.length > 0) {
    throw new BrokerError(
      'BROKER_ADAPTER_BAD_REQUEST',
      `scopes the provider cannot express: ${unknown.join(', ')}`,
    );
  }
  const policies = [...new Set([...config.policies, ...scopes.flatMap((s) => config.scopes[s] ?? [])])];
  // Vault gives a token created without policies every policy of the caller: the broker's own.
  if (policies.length === 0) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'the provider and these scopes name no vault policy');
  }
  return policies;
}

/** Token metadata naming the task and workload (Vault's audit devices record it with every use). */
export function taskMeta(ctx: IssueContext<unknown>, role: string): JsonObject {
  return { taskpass_task: ctx.taskId, taskpass_workload: ctx.workload.toString(), taskpass_role: role };
}

/**
 * Checks the lifetime Vault granted against the credential's bound (DESIGN.md invariant 2).
 *
 * @throws {VaultRequestError} `BROKER_ADAPTER_BACKEND_MALFORMED` for no lifetime or a longer one.
 */
export function checkLifetime(granted: number, ttlSeconds: number, where: string): number {
  if (granted <= 0 || granted > ttlSeconds) {
    const why = granted <= 0 ? 'no ttl' : `${granted}s, beyond the credential ttl of ${ttlSeconds}s`;
    throw new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${where}: vault granted ${why}`);
  }
  return granted;
}

/** `POST auth/token/create-orphan` with the broker's token (re-logging in once on 403). */
export function createOrphan(backend: VaultBackend, body: JsonObject, wrapTtlSeconds?: number) {
  const path = 'auth/token/create-orphan';
  return backend.session.withToken((token): Promise<VaultAnswer> =>
    backend.client.request({
      method: 'POST',
      path,
      token,
      body,
      ...(wrapTtlSeconds !== undefined && { wrapTtlSeconds }),
    }),
  );
}

function call(backend: VaultBackend, path: string, body: JsonObject, method: 'POST' | 'PUT' = 'POST') {
  return backend.session.withToken((token) => backend.client.request({ method, path, token, body }));
}

/** True for Vault's answers meaning "no such token": 400 `invalid accessor`, 403 `bad token`. */
function tokenGone(err: unknown): err is VaultRequestError {
  return (
    err instanceof VaultRequestError &&
    ((err.status === 400 && err.says('invalid accessor')) || (err.status === 403 && err.says('bad token')))
  );
}

/** True for Vault's answers meaning "no such lease" (400 `invalid lease`, `lease not found`). */
function leaseGone(err: unknown): err is VaultRequestError {
  return (
    err instanceof VaultRequestError &&
    err.status === 400 &&
    (err.says('invalid lease') || err.says('lease not found'))
  );
}

/** Revokes the token of `accessor` (and its children); an unknown accessor is already revoked. */
export async function revokeAccessor(backend: VaultBackend, accessor: string): Promise<void> {
  try {
    await call(backend, 'auth/token/revoke-accessor', { accessor });
  } catch (err) {
    if (!tokenGone(err)) throw err;
  }
}

/** Looks the token of `accessor` up without using it. */
export async function lookupAccessor(backend: VaultBackend, accessor: string): Promise<VaultLookup> {
  try {
    const answer = await call(backend, 'auth/token/lookup-accessor', { accessor });
    const ttl = lookupTtl(answer);
    return { alive: true, ttl, detail: `vault holds the token (ttl ${ttl ?? '?'}s)` };
  } catch (err) {
    if (!tokenGone(err)) throw err;
    return {
      alive: false,
      ttl: undefined,
      detail: `vault lookup-accessor: ${err.status} ${err.vaultErrors.join('; ')}`,
    };
  }
}

/** Renews the token of `accessor` by `increment` seconds; returns the lifetime Vault granted. */
export async function renewAccessor(
  backend: VaultBackend,
  accessor: string,
  increment: number,
): Promise<number> {
  const path = 'auth/token/renew-accessor';
  const answer = await call(backend, path, { accessor, increment: `${increment}s` });
  return parseAuth(answer, `vault POST ${path}`, false).leaseDuration;
}

/** Revokes a lease at once (`sync`); an unknown lease is already revoked. */
export async function revokeLease(backend: VaultBackend, leaseId: string): Promise<void> {
  try {
    await call(backend, 'sys/leases/revoke', { lease_id: leaseId, sync: true }, 'PUT');
  } catch (err) {
    if (!leaseGone(err)) throw err;
  }
}

/** Looks a lease up; a lease whose TTL reached 0 is still held (Vault revokes it in the background). */
export async function lookupLease(backend: VaultBackend, leaseId: string): Promise<VaultLookup> {
  try {
    const answer = await call(backend, 'sys/leases/lookup', { lease_id: leaseId }, 'PUT');
    const ttl = lookupTtl(answer);
    return { alive: true, ttl, detail: `vault holds the lease (ttl ${ttl ?? '?'}s)` };
  } catch (err) {
    if (!leaseGone(err)) throw err;
    return {
      alive: false,
      ttl: undefined,
      detail: `vault sys/leases/lookup: ${err.status} ${err.vaultErrors.join('; ')}`,
    };
  }
}

/** Renews a lease by `increment` seconds; returns the lifetime Vault granted. */
export async function renewLease(backend: VaultBackend, leaseId: string, increment: number): Promise<number> {
  const path = 'sys/leases/renew';
  const answer = await call(backend, path, { lease_id: leaseId, increment }, 'PUT');
  return parseLeaseRenewal(answer, `vault PUT ${path}`);
}

/**
 * Undoes a failed issuance: revokes what it created, then rethrows `err` — extended with a note when
 * the cleanup failed too (what is left expires by itself at the credential's TTL).
 */
export async function undo(err: unknown, cleanups: readonly (() => Promise<void>)[]): Promise<never> {
  const failed: string[] = [];
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (cleanupErr) {
      failed.push(cleanupErr instanceof BrokerError ? cleanupErr.code : 'error');
    }
  }
  if (failed.length === 0 || !(err instanceof BrokerError)) throw err;
  const note = `cleanup failed (${failed.join(', ')}): what vault created expires at the credential ttl`;
  throw new VaultRequestError(err.code, `${err.detail ?? ''}; ${note}`);
}
