// The policy engine of the in-test Vault: ACL policies written through `sys/policies/acl/:name` in
// Vault's JSON policy syntax ({"path": {"a/b/*": {"capabilities": ["update"]}}}), matched as Vault
// does: exact paths, `*` as a trailing prefix glob, `+` as one path segment; the most specific
// matching path wins across all of a token's policies, `deny` beats everything, `root` allows all.

/** A Vault capability. */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

const CAPABILITIES: readonly Capability[] = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
];

interface Rule {
  readonly regex: RegExp;
  /** Higher is more specific: exact paths beat globs, longer literal prefixes beat shorter ones. */
  readonly specificity: number;
  readonly capabilities: ReadonlySet<Capability>;
}

function compile(pattern: string, capabilities: Capability[]): Rule {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  const source = body
    .split('+')
    .map((part) => part.replace(/[.*?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  const literal = body.replace(/\+/g, '').length;
  return {
    regex: new RegExp(`^${source}${glob ? '.*' : ''}$`),
    specificity: literal * 2 + (glob || body.includes('+') ? 0 : 1) + (glob ? 0 : 10_000),
    capabilities: new Set(capabilities),
  };
}

/** The default policy's token self-service paths, and the wrapping token's one path. */
const BUILTIN: Record<string, Record<string, Capability[]>> = {
  default: {
    'auth/token/lookup-self': ['read'],
    'auth/token/renew-self': ['update'],
    'auth/token/revoke-self': ['update'],
    'sys/capabilities-self': ['update'],
    'sys/leases/lookup': ['update'],
    'sys/leases/renew': ['update'],
    'sys/renew': ['update'],
    'sys/wrapping/wrap': ['update'],
    'sys/wrapping/lookup': ['update'],
    'sys/wrapping/unwrap': ['update'],
  },
  'response-wrapping': { 'sys/wrapping/unwrap': ['update'], 'sys/wrapping/lookup': ['update'] },
};

/** Raised for a policy document the store cannot parse (Vault answers 400). */
export class PolicyParseError extends Error {}

/** ACL policies by name. */
export class AclStore {
  readonly #policies = new Map<string, Rule[]>();

  constructor() {
    for (const [name, paths] of Object.entries(BUILTIN)) this.#set(name, paths);
  }

  /** Stores policy `name` from its JSON text. @throws {PolicyParseError} */
  put(name: string, text: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new PolicyParseError('failed to parse policy: this server accepts the JSON policy syntax only');
    }
    const paths = (doc as { path?: unknown } | null)?.path;
    if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
      throw new PolicyParseError('failed to parse policy: no path stanzas');
    }
    const parsed: Record<string, Capability[]> = {};
    for (const [path, stanza] of Object.entries(paths)) {
      const caps = (stanza as { capabilities?: unknown } | null)?.capabilities;
      if (!Array.isArray(caps) || !caps.every((c) => CAPABILITIES.includes(c as Capability))) {
        throw new PolicyParseError(
          `failed to parse policy: bad capabilities for path ${JSON.stringify(path)}`,
        );
      }
      parsed[path] = caps as Capability[];
    }
    this.#set(name, parsed);
  }

  #set(name: string, paths: Record<string, Capability[]>): void {
    this.#policies.set(
      name,
      Object.entries(paths).map(([p, caps]) => compile(p, caps)),
    );
  }

  /** Whether a token with `policies` has any of `wanted` on `path`. */
  allows(policies: readonly string[], path: string, wanted: readonly Capability[]): boolean {
    if (policies.includes('root')) return true;
    const matching = policies.flatMap((p) => this.#policies.get(p) ?? []).filter((r) => r.regex.test(path));
    if (matching.length === 0) return false;
    const best = Math.max(...matching.map((r) => r.specificity));
    const caps = new Set(matching.filter((r) => r.specificity === best).flatMap((r) => [...r.capabilities]));
    return !caps.has('deny') && wanted.some((c) => caps.has(c));
  }
}
