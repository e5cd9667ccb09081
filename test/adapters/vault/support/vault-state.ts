// The state of the in-test Vault: tokens (with accessors, parents, TTLs, explicit maxima, use
// counts), leases owned by the token that created them, and response-wrapping tokens. Expiry is
// computed against an injected clock, so a test moves time instead of sleeping. As in Vault,
// revoking or expiring a token revokes its child tokens and every lease it created.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../../spiffe/clock.js';

/** An error answer: `{"errors": [...]}` with an HTTP status. */
export class VaultApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.join('; '));
  }
}

/** A client error (`400`), as Vault's `logical.ErrorResponse(...)` with `ErrInvalidRequest`. */
export const badRequest = (message: string): VaultApiError => new VaultApiError(400, [message]);
/** An error Vault returns as a Go error: its text in go-multierror's form. */
export function multiError(status: number, ...messages: string[]): VaultApiError {
  const n = messages.length;
  const items = messages.map((m) => `\t* ${m}\n`).join('');
  return new VaultApiError(status, [`${n} error${n === 1 ? '' : 's'} occurred:\n${items}\n`]);
}

/** Vault's 403 to a token the ACL refuses (an unknown token adds `invalid token`). */
export const permissionDenied = (...more: string[]): VaultApiError =>
  multiError(403, 'permission denied', ...more);

/** The system-wide maximum lease TTL (Vault's default: 32 days). */
export const SYSTEM_MAX_TTL = 32 * 86400;

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly displayName: string;
  readonly path: string;
  readonly orphan: boolean;
  readonly parent: string | undefined;
  readonly creationTime: number;
  /** The TTL asked for at creation (seconds; 0 = no expiry): the default renewal increment. */
  readonly creationTtl: number;
  expireAt: number | undefined;
  readonly maxAt: number | undefined;
  readonly explicitMaxTtl: number;
  readonly renewable: boolean;
  /** Uses left; 0 = unlimited. */
  numUses: number;
  revokedAt: number | undefined;
  /** The answer a response-wrapping token holds. */
  wrapped?: { readonly body: Record<string, unknown>; readonly creationPath: string };
}

export interface LeaseEntry {
  readonly id: string;
  readonly path: string;
  readonly tokenId: string;
  readonly issueTime: number;
  expireAt: number;
  readonly maxAt: number;
  readonly renewable: boolean;
  lastRenewal: number | undefined;
  revokedAt: number | undefined;
}

/** What {@link VaultState.createToken} takes. */
export interface NewToken {
  readonly policies: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly displayName: string;
  readonly path: string;
  readonly parent: TokenEntry | undefined;
  readonly ttl: number;
  readonly explicitMaxTtl?: number;
  /** A maximum TTL from the auth method's role (`token_max_ttl`), else the system maximum. */
  readonly maxTtl?: number;
  readonly renewable: boolean;
  readonly numUses?: number;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A random base62 string, as Vault's token and accessor ids. */
export function base62(length: number): string {
  return [...randomBytes(length)].map((b) => BASE62[b % 62]).join('');
}

/** Tokens, leases and wrapping tokens with their lifetimes. */
export class VaultState {
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #accessors = new Map<string, string>();
  readonly #leases = new Map<string, LeaseEntry>();

  constructor(readonly clock: Clock) {}

  now(): number {
    return this.clock.now().getTime();
  }

  /** A token with a fixed id (the root token of a dev server). */
  addRoot(id: string): TokenEntry {
    return this.#store(id, {
      policies: ['root'],
      displayName: 'root',
      path: 'auth/token/root',
      parent: undefined,
      ttl: 0,
      renewable: false,
    });
  }

  createToken(spec: NewToken): TokenEntry {
    return this.#store(`hvs.${base62(24)}`, spec);
  }

  #store(id: string, spec: NewToken): TokenEntry {
    const now = this.now();
    const explicitMax = spec.explicitMaxTtl ?? 0;
    const caps = [spec.maxTtl ?? SYSTEM_MAX_TTL, explicitMax].filter((c) => c > 0);
    const maxAt = spec.ttl === 0 && explicitMax === 0 ? undefined : now + Math.min(...caps) * 1000;
    const ttl = spec.ttl === 0 ? 0 : Math.min(spec.ttl, ...caps);
    const entry: TokenEntry = {
      id,
      accessor: base62(24),
      policies: [...new Set(spec.policies)].sort(),
      meta: { ...(spec.meta ?? {}) },
      displayName: spec.displayName,
      path: spec.path,
      orphan: spec.parent === undefined,
      parent: spec.parent?.id,
      creationTime: now,
      creationTtl: ttl,
      expireAt: ttl === 0 ? maxAt : now + ttl * 1000,
      maxAt,
      explicitMaxTtl: explicitMax,
      renewable: spec.renewable,
      numUses: spec.numUses ?? 0,
      revokedAt: undefined,
    };
    this.#tokens.set(id, entry);
    this.#accessors.set(entry.accessor, id);
    return entry;
  }

  /** Whether `entry` is honoured at `at`: not revoked, not expired, its parent alive. */
  alive(entry: TokenEntry, at = this.now()): boolean {
    if (entry.revokedAt !== undefined && entry.revokedAt <= at) return false;
    if (entry.expireAt !== undefined && entry.expireAt <= at) return false;
    const parent = entry.parent === undefined ? undefined : this.#tokens.get(entry.parent);
    return entry.parent === undefined || (parent !== undefined && this.alive(parent, at));
  }

  token(id: string | undefined): TokenEntry | undefined {
    const entry = id === undefined ? undefined : this.#tokens.get(id);
    return entry !== undefined && this.alive(entry) ? entry : undefined;
  }

  byAccessor(accessor: string): TokenEntry | undefined {
    return this.token(this.#accessors.get(accessor));
  }

  /** Revokes `entry`, its children, and (through {@link leaseAlive}) every lease it created. */
  revoke(entry: TokenEntry): void {
    const now = this.now();
    if (entry.revokedAt === undefined || entry.revokedAt > now) entry.revokedAt = now;
    this.#accessors.delete(entry.accessor);
    for (const child of this.#tokens.values()) {
      if (child.parent === entry.id && child.revokedAt === undefined) this.revoke(child);
    }
    for (const lease of this.#leases.values()) {
      if (lease.tokenId === entry.id && lease.revokedAt === undefined) lease.revokedAt = now;
    }
  }

  /** Renews a token by `increment` seconds (its creation TTL when 0); returns the new TTL. */
  renew(entry: TokenEntry, increment: number): number {
    if (!entry.renewable) throw badRequest('lease is not renewable');
    if (entry.expireAt === undefined) return 0;
    const now = this.now();
    const wanted = (increment > 0 ? increment : entry.creationTtl) * 1000;
    const until = Math.min(now + wanted, entry.maxAt ?? Infinity);
    entry.expireAt = until;
    return Math.max(0, Math.floor((until - now) / 1000));
  }

  /** Seconds until `entry` expires (0 for none). */
  ttlOf(entry: { expireAt: number | undefined }): number {
    return entry.expireAt === undefined ? 0 : Math.max(0, Math.floor((entry.expireAt - this.now()) / 1000));
  }

  createLease(path: string, token: TokenEntry, ttl: number, maxTtl: number, renewable: boolean): LeaseEntry {
    const now = this.now();
    const lease: LeaseEntry = {
      id: `${path}/${base62(24)}`,
      path,
      tokenId: token.id,
      issueTime: now,
      expireAt: now + ttl * 1000,
      maxAt: now + maxTtl * 1000,
      renewable,
      lastRenewal: undefined,
      revokedAt: undefined,
    };
    this.#leases.set(lease.id, lease);
    return lease;
  }

  /** A lease Vault still holds: not revoked, not expired, its token alive. */
  lease(id: string): LeaseEntry | undefined {
    const lease = this.#leases.get(id);
    if (lease === undefined || lease.revokedAt !== undefined || lease.expireAt <= this.now())
      return undefined;
    const token = this.#tokens.get(lease.tokenId);
    return token !== undefined && this.alive(token) ? lease : undefined;
  }

  revokeLease(id: string): void {
    const lease = this.#leases.get(id);
    if (lease !== undefined && lease.revokedAt === undefined) lease.revokedAt = this.now();
  }

  /** Every lease ever created (for assertions), live or not. */
  leases(): readonly LeaseEntry[] {
    return [...this.#leases.values()];
  }

  /** Every token ever created (for assertions), live or not. */
  tokens(): readonly TokenEntry[] {
    return [...this.#tokens.values()];
  }
}
