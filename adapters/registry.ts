import { BrokerError } from '../broker/errors.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import {
  AdapterConfigError,
  type CredentialAdapter,
  type IssuedCredential,
  type JsonObject,
  type RenewedCredential,
  type Revocability,
  type RevocationCheck,
} from './credential-adapter.js';

/** An issue request to a named provider: the {@link IssueContext} without the config, which it holds. */
export interface ProviderIssueRequest {
  readonly taskId: string;
  readonly workload: SpiffeId;
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  readonly now: Date;
}

/** A request about an issued credential; `handle` is as read back from storage and is validated. */
export interface ProviderHandleRequest {
  readonly handle: unknown;
  readonly now: Date;
}

/**
 * A configured provider instance (`crm-api`, `analytics-db`): one adapter bound to its parsed config.
 * Handles leave it as JSON objects to persist and come back as stored data, which the adapter's
 * `parseHandle` validates before use, so the adapter's own types never need a cast.
 */
export interface ProviderInstance {
  readonly name: string;
  readonly kind: string;
  readonly revocability: Revocability;
  /** True when the adapter implements renewal at all. */
  readonly canRenew: boolean;
  issue(req: ProviderIssueRequest): Promise<IssuedCredential<JsonObject>>;
  revoke(req: ProviderHandleRequest): Promise<void>;
  /** @throws {BrokerError} `BROKER_ADAPTER_RENEW_UNSUPPORTED` when the adapter cannot renew. */
  renew(req: ProviderHandleRequest & { readonly ttlSeconds: number }): Promise<RenewedCredential<JsonObject>>;
  verifyRevoked(req: ProviderHandleRequest): Promise<RevocationCheck>;
}

/** A provider kind the registry can instantiate: an adapter with its types hidden behind a binder. */
export interface AdapterKind {
  readonly kind: string;
  /** @throws {AdapterConfigError} as the adapter's `parseConfig`. */
  instantiate(name: string, rawConfig: unknown): ProviderInstance;
}

/**
 * Wraps an adapter as an {@link AdapterKind}. The generic parameters are fixed here, once, so each
 * instance keeps its own `Config` and `Handle` types inside closures.
 */
export function adapterKind<Config, Handle extends JsonObject>(
  adapter: CredentialAdapter<Config, Handle>,
): AdapterKind {
  return Object.freeze({
    kind: adapter.kind,
    instantiate(name: string, rawConfig: unknown): ProviderInstance {
      return bindProvider(name, adapter, adapter.parseConfig(rawConfig));
    },
  });
}

/** Binds `adapter` to its parsed `config` as the provider `name`. */
export function bindProvider<Config, Handle extends JsonObject>(
  name: string,
  adapter: CredentialAdapter<Config, Handle>,
  config: Config,
): ProviderInstance {
  return Object.freeze({
    name,
    kind: adapter.kind,
    revocability: adapter.revocability,
    canRenew: adapter.renew !== undefined,
    // Async wrappers: a handle that fails to parse rejects the promise, as backend failures do.
    issue: async (req: ProviderIssueRequest) => adapter.issue({ ...req, config }),
    revoke: async (req: ProviderHandleRequest) =>
      adapter.revoke({ config, handle: adapter.parseHandle(req.handle), now: req.now }),
    async renew(req: ProviderHandleRequest & { readonly ttlSeconds: number }) {
      if (adapter.renew === undefined)
        throw new BrokerError('BROKER_ADAPTER_RENEW_UNSUPPORTED', adapter.kind);
      const handle = adapter.parseHandle(req.handle);
      return adapter.renew({ config, handle, now: req.now, ttlSeconds: req.ttlSeconds });
    },
    verifyRevoked: async (req: ProviderHandleRequest) =>
      adapter.verifyRevoked({ config, handle: adapter.parseHandle(req.handle), now: req.now }),
  });
}

/** The provider instances of the broker's configuration, by name. */
export interface ProviderRegistry {
  /** Configured names, sorted. */
  names(): readonly string[];
  has(name: string): boolean;
  /** @throws {BrokerError} `BROKER_ADAPTER_UNKNOWN_PROVIDER`. */
  get(name: string): ProviderInstance;
}

/** A provider name: lowercase letters, digits and inner hyphens, as policies and the CLI spell it. */
const PROVIDER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Builds the registry from the `providers` section of the configuration: an object mapping each
 * provider name to `{ kind, ...the adapter's own fields }`.
 *
 * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem of every provider, each
 * prefixed by `providers.<name>`: bad names, unknown kinds, and each adapter's own problems.
 */
export function createProviderRegistry(kinds: readonly AdapterKind[], providers: unknown): ProviderRegistry {
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  const problems: string[] = [];
  const instances = new Map<string, ProviderInstance>();
  if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) {
    throw new AdapterConfigError(['providers: must be an object']);
  }
  for (const [name, raw] of Object.entries(providers)) {
    const where = `providers.${name}`;
    if (!PROVIDER_NAME.test(name))
      problems.push(`${where}: name must be lowercase letters, digits and hyphens`);
    const { kind, ...rest } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const adapter = typeof kind === 'string' ? byKind.get(kind) : undefined;
    if (adapter === undefined) {
      problems.push(`${where}.kind: must be one of ${[...byKind.keys()].sort().join(', ')}`);
      continue;
    }
    try {
      instances.set(name, adapter.instantiate(name, rest));
    } catch (err) {
      if (!(err instanceof AdapterConfigError)) throw err;
      problems.push(...err.problems.map((p) => `${where}.${p}`));
    }
  }
  if (problems.length > 0) throw new AdapterConfigError(problems);
  const names = Object.freeze([...instances.keys()].sort());
  return Object.freeze({
    names: () => names,
    has: (name: string) => instances.has(name),
    get(name: string): ProviderInstance {
      const instance = instances.get(name);
      if (instance === undefined)
        throw new BrokerError('BROKER_ADAPTER_UNKNOWN_PROVIDER', JSON.stringify(name));
      return instance;
    },
  });
}
