// What every route of the in-test Vault sees: the state, the policies, the mounts, the request.
import type { KeyObject } from 'node:crypto';
import type { AclStore, Capability } from './vault-acl.js';
import { badRequest, type LeaseEntry, type TokenEntry, type VaultState } from './vault-state.js';

export interface DatabaseRole {
  readonly defaultTtl: number;
  readonly maxTtl: number;
}

export interface PkiRole {
  readonly ttl: number;
  readonly maxTtl: number;
  readonly generateLease: boolean;
}

/** A secrets engine mounted at `sys/mounts/:path` (the kinds the suites use). */
export type SecretMount =
  | { readonly type: 'database'; readonly roles: Map<string, DatabaseRole> }
  | { readonly type: 'pki'; readonly roles: Map<string, PkiRole>; root: boolean }
  | { readonly type: 'kv' };

export interface LoginRole {
  readonly policies: readonly string[];
  readonly ttl: number;
  readonly maxTtl: number;
}

export interface AppRole extends LoginRole {
  readonly roleId: string;
  readonly secretIds: Set<string>;
}

export interface JwtRole extends LoginRole {
  readonly boundAudiences: readonly string[];
  readonly boundSubject: string | undefined;
  readonly userClaim: string;
}

/** An auth method mounted at `sys/auth/:path`. */
export type AuthMount =
  | { readonly type: 'approle'; readonly roles: Map<string, AppRole> }
  | {
      readonly type: 'jwt';
      readonly roles: Map<string, JwtRole>;
      keys: KeyObject[];
      boundIssuer: string | undefined;
    };

/** The server's whole state. */
export interface VaultWorld {
  readonly state: VaultState;
  readonly acl: AclStore;
  readonly mounts: Map<string, SecretMount>;
  readonly auths: Map<string, AuthMount>;
}

/** One request as a route sees it. */
export interface RouteContext {
  readonly world: VaultWorld;
  readonly method: string;
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** The caller's token, already checked alive and allowed on the path. */
  readonly token: TokenEntry | undefined;
}

/** A route: the answer body (`undefined` for `204 No Content`). */
export interface Route {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  /** `none` for logins; else the caller needs one of `capabilities` (default by method) on the path. */
  readonly auth: 'none' | 'token';
  readonly capabilities?: readonly Capability[];
  handle(ctx: RouteContext, match: RegExpMatchArray): Promise<Record<string, unknown> | undefined>;
}

/** Vault's answer envelope. */
export function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: crypto.randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...fields,
  };
}

/** Vault's duration fields: whole seconds as a number or numeric string, or `90s`, `5m`, `1h30m`, `2d`. */
export function durationField(value: unknown, name: string, fallback = 0): number {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
    if (m !== null && value !== '') {
      const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
      return d * 86400 + h * 3600 + min * 60 + s;
    }
  }
  throw badRequest(`error converting input ${JSON.stringify(value)} for field "${name}": invalid duration`);
}

/** A list of strings, or a comma-separated string, as Vault's `TypeCommaStringSlice`. */
export function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw badRequest('expected a list of strings');
}

/** The `auth` block Vault returns for a token. */
export function authBlock(state: VaultState, t: TokenEntry, clientToken = t.id): Record<string, unknown> {
  return {
    client_token: clientToken,
    accessor: t.accessor,
    policies: t.policies,
    token_policies: t.policies,
    metadata: Object.keys(t.meta).length > 0 ? t.meta : null,
    lease_duration: state.ttlOf(t),
    renewable: t.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: t.orphan,
    num_uses: t.numUses,
  };
}

/** `data` of a token lookup (`id` empty for lookups by accessor, as Vault does). */
export function lookupData(state: VaultState, t: TokenEntry, withId: boolean): Record<string, unknown> {
  return {
    accessor: t.accessor,
    creation_time: Math.floor(t.creationTime / 1000),
    creation_ttl: t.creationTtl,
    display_name: t.displayName,
    entity_id: '',
    expire_time: t.expireAt === undefined ? null : new Date(t.expireAt).toISOString(),
    explicit_max_ttl: t.explicitMaxTtl,
    id: withId ? t.id : '',
    issue_time: new Date(t.creationTime).toISOString(),
    meta: Object.keys(t.meta).length > 0 ? t.meta : null,
    num_uses: t.numUses,
    orphan: t.orphan,
    path: t.path,
    policies: t.policies,
    renewable: t.renewable,
    ttl: state.ttlOf(t),
    type: 'service',
  };
}

/** The answer of a read that created a lease. */
export function leaseAnswer(state: VaultState, lease: LeaseEntry, data: Record<string, unknown>) {
  return envelope({
    lease_id: lease.id,
    renewable: lease.renewable,
    lease_duration: state.ttlOf(lease),
    data,
  });
}
