import { ConfigReader } from '../config-reader.js';
import type { JsonObject } from '../credential-adapter.js';
import { parseVaultAuthConfig, type VaultAuthConfig } from './auth-config.js';

export type { VaultAuthConfig } from './auth-config.js';

/** What a `vault` provider mints: Vault tokens, or dynamic secrets read from an engine path. */
export type VaultMode = 'token' | 'dynamic';

/** Where a `dynamic` provider reads its secret. */
export interface VaultDynamicSource {
  /** The engine path, e.g. `database/creds/readonly`, `aws/creds/deploy`, `pki/issue/agents`. */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  /** The JSON body of a POST; a string value `{{ttl}}` becomes the credential TTL (`"300s"`). */
  readonly params: JsonObject;
}

/** Parsed configuration of one `vault` provider (e.g. `vault-kv`, `orders-db`). */
export interface VaultProviderConfig {
  readonly address: string;
  readonly namespace: string | undefined;
  readonly timeoutMs: number;
  readonly auth: VaultAuthConfig;
  readonly mode: VaultMode;
  /** Vault policies every credential of the provider gets. */
  readonly policies: readonly string[];
  /** Each scope the provider can express, and the Vault policies it adds. */
  readonly scopes: Readonly<Record<string, readonly string[]>>;
  readonly renewable: boolean;
  /** The absolute lifetime cap of a renewable credential (required with `renewable`). */
  readonly explicitMaxTtlSeconds: number | undefined;
  /** `num_uses` of minted tokens (token mode); 0 is unlimited. */
  readonly numUses: number;
  readonly noDefaultPolicy: boolean;
  readonly displayName: string;
  /** Response wrapping: the workload receives a single-use wrapping token with this TTL at most. */
  readonly wrapTtlSeconds: number | undefined;
  /** The engine path of a `dynamic` provider; undefined in token mode. */
  readonly dynamic: VaultDynamicSource | undefined;
}

const KEYS = [
  'address',
  'namespace',
  'timeout',
  'auth',
  'mode',
  'policies',
  'scopes',
  'renewable',
  'explicit_max_ttl',
  'num_uses',
  'no_default_policy',
  'display_name',
  'wrap_ttl',
  'path',
  'method',
  'params',
];
const DAY = 86400;
/** Vault policy names (`kv-read`, `team.db_ro`); `root` is refused: a root token has no bound. */
const POLICY = /^[A-Za-z0-9_.-]{1,128}$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** An engine path: segments of safe characters, no `.`/`..`, not under `sys/` or `auth/`. */
const ENGINE_PATH = /^[A-Za-z0-9_@:+=,-][A-Za-z0-9_.@:+=,-]*(?:\/[A-Za-z0-9_@:+=,-][A-Za-z0-9_.@:+=,-]*)+$/;

function addressProblem(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return 'address: must be an absolute url';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'address: must be an http(s) url';
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return 'address: must have no credentials, query or fragment';
  }
  return undefined;
}

function policyList(reader: ConfigReader, value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const ok =
    Array.isArray(value) &&
    value.every((p) => typeof p === 'string' && POLICY.test(p) && p !== 'root') &&
    new Set(value).size === value.length;
  if (!ok) reader.problem(`${where}: must be a list of distinct vault policy names (not root)`);
  return ok ? [...(value as string[])] : [];
}

function scopeMap(reader: ConfigReader, value: unknown): Record<string, readonly string[]> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    reader.problem('scopes: must map each scope to a list of vault policies');
    return {};
  }
  const out: Record<string, readonly string[]> = {};
  for (const [scope, policies] of Object.entries(value)) {
    if (!SCOPE.test(scope)) reader.problem(`scopes.${scope}: is not an rfc 6749 scope-token`);
    out[scope] = Object.freeze(policyList(reader, policies, `scopes.${scope}`));
  }
  return out;
}

function wholeNumber(reader: ConfigReader, value: unknown, key: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  reader.problem(`${key}: must be a whole number, 0 or more`);
  return 0;
}

function optionalString(reader: ConfigReader, raw: Record<string, unknown>, key: string): string | undefined {
  return raw[key] === undefined ? undefined : reader.string(key);
}

function dynamicSource(reader: ConfigReader, raw: Record<string, unknown>, mode: VaultMode) {
  if (mode === 'token') {
    for (const key of ['path', 'method', 'params']) {
      if (raw[key] !== undefined) reader.problem(`${key}: only for mode dynamic`);
    }
    return undefined;
  }
  const path = reader.string('path');
  if (path !== '' && (!ENGINE_PATH.test(path) || /^(sys|auth)\//.test(path))) {
    reader.problem('path: must be a secrets engine path like database/creds/readonly');
  }
  const method = reader.oneOf('method', ['GET', 'POST'] as const, 'GET');
  const params = raw['params'];
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    reader.problem('params: must be an object (the POST body)');
  } else if (params !== undefined && method !== 'POST') {
    reader.problem('params: only with method POST');
  }
  const body = (typeof params === 'object' && params !== null ? params : {}) as JsonObject;
  return { path, method, params: Object.freeze(structuredClone(body)) };
}

/**
 * Validates a `vault` provider's configuration (docs/providers/vault.md lists every key). Needs to
 * know whether the broker can supply its own JWT-SVID, which JWT auth uses unless `jwt_file` is set.
 *
 * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem, not just the first.
 */
export function parseVaultProviderConfig(raw: unknown, jwtSvidAvailable: boolean): VaultProviderConfig {
  const reader = new ConfigReader(raw, KEYS);
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const obj = (isObject ? raw : {}) as Record<string, unknown>;
  const address = reader.string('address');
  const addressIssue = address === '' ? undefined : addressProblem(address);
  if (addressIssue !== undefined) reader.problem(addressIssue);
  const auth = parseVaultAuthConfig(obj['auth'], jwtSvidAvailable);
  if (isObject) auth.problems.forEach((p) => reader.problem(p));
  const mode =
    obj['mode'] === undefined ? 'token' : reader.oneOf('mode', ['token', 'dynamic'] as const, 'token');
  if (obj['mode'] === undefined) reader.problem('mode: must be one of token, dynamic');
  const renewable = reader.boolean('renewable', false);
  const explicitMax =
    obj['explicit_max_ttl'] === undefined ? undefined : reader.duration('explicit_max_ttl', 0, 366 * DAY);
  if (renewable && explicitMax === undefined) reader.problem('explicit_max_ttl: required when renewable');
  const numUses = wholeNumber(reader, obj['num_uses'], 'num_uses');
  if (mode === 'dynamic' && obj['num_uses'] !== undefined) reader.problem('num_uses: only for mode token');
  const config = {
    address: address.replace(/\/+$/, ''),
    namespace: optionalString(reader, obj, 'namespace'),
    timeoutMs: reader.duration('timeout', 10, 300) * 1000,
    auth: auth.auth as VaultAuthConfig,
    mode,
    policies: Object.freeze(policyList(reader, obj['policies'], 'policies')),
    scopes: Object.freeze(scopeMap(reader, obj['scopes'])),
    renewable,
    explicitMaxTtlSeconds: explicitMax,
    numUses,
    noDefaultPolicy: reader.boolean('no_default_policy', false),
    displayName: optionalString(reader, obj, 'display_name') ?? 'taskpass',
    wrapTtlSeconds: obj['wrap_ttl'] === undefined ? undefined : reader.duration('wrap_ttl', 0, DAY),
    dynamic: dynamicSource(reader, obj, mode),
  };
  return reader.finish(config);
}
