// Mounts (sys/mounts, sys/auth) and the secrets engines the suites read leases from (database, pki)
// of the in-test Vault.
import { randomBytes } from 'node:crypto';
import { badRequest, base62, VaultApiError } from './vault-state.js';
import {
  durationField,
  envelope,
  leaseAnswer,
  type AuthMount,
  type Route,
  type RouteContext,
  type SecretMount,
} from './vault-world.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function mountRoute(kind: 'mounts' | 'auth'): Route {
  return {
    methods: ['POST', 'PUT'],
    pattern: kind === 'mounts' ? /^sys\/mounts\/(.+)$/ : /^sys\/auth\/(.+)$/,
    auth: 'token',
    capabilities: ['create', 'update', 'sudo'],
    async handle(c, m) {
      const path = m[1]!.replace(/\/+$/, '');
      const type = str(c.body['type']);
      const table = kind === 'mounts' ? c.world.mounts : c.world.auths;
      if (table.has(path)) throw badRequest(`path is already in use at ${path}/`);
      if (kind === 'mounts') {
        const mount: SecretMount | undefined =
          type === 'database'
            ? { type, roles: new Map() }
            : type === 'pki'
              ? { type, roles: new Map(), root: false }
              : type === 'kv'
                ? { type }
                : undefined;
        if (mount === undefined) throw badRequest(`plugin not found in the catalog: ${type}`);
        c.world.mounts.set(path, mount);
      } else {
        const auth: AuthMount | undefined =
          type === 'approle'
            ? { type, roles: new Map() }
            : type === 'jwt'
              ? { type, roles: new Map(), keys: [], boundIssuer: undefined }
              : undefined;
        if (auth === undefined) throw badRequest(`plugin not found in the catalog: ${type}`);
        c.world.auths.set(path, auth);
      }
      return undefined;
    },
  };
}

/** The secret mount `path` falls under, with the rest of the path. */
function secretMount(c: RouteContext): { mount: SecretMount; rest: string } {
  const hit = [...c.world.mounts.keys()]
    .filter((m) => c.path.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (hit === undefined)
    throw new VaultApiError(404, [`no handler for route "${c.path}". route entry not found.`]);
  return { mount: c.world.mounts.get(hit)!, rest: c.path.slice(hit.length + 1) };
}

function unsupported(): never {
  throw new VaultApiError(404, [`1 error occurred:\n\t* unsupported path\n\n`]);
}

function pem(label: string): string {
  const body = randomBytes(96)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
}

function engine(c: RouteContext): Record<string, unknown> | undefined {
  const { mount, rest } = secretMount(c);
  const [op, name, ...more] = rest.split('/');
  if (name === undefined || more.length > 0 || mount.type === 'kv') return unsupported();
  const state = c.world.state;
  if (mount.type === 'database') {
    if (op === 'roles' && c.method !== 'GET') {
      const defaultTtl = durationField(c.body['default_ttl'], 'default_ttl', 3600);
      mount.roles.set(name, { defaultTtl, maxTtl: durationField(c.body['max_ttl'], 'max_ttl', 86400) });
      return undefined;
    }
    if (op === 'creds' && c.method === 'GET') {
      const role = mount.roles.get(name);
      if (role === undefined) throw badRequest(`unknown role: ${name}`);
      const lease = state.createLease(c.path, c.token!, role.defaultTtl, role.maxTtl, true);
      const data = {
        username: `v-token-${name}-${base62(20)}-${Math.floor(lease.issueTime / 1000)}`,
        password: base62(20),
      };
      return leaseAnswer(state, lease, data);
    }
    return unsupported();
  }
  if (op === 'roles' && c.method !== 'GET') {
    const ttl = durationField(c.body['ttl'], 'ttl', 2764800);
    const maxTtl = durationField(c.body['max_ttl'], 'max_ttl', 2764800);
    mount.roles.set(name, { ttl, maxTtl, generateLease: c.body['generate_lease'] === true });
    return undefined;
  }
  if (op === 'issue' && c.method !== 'GET') {
    const role = mount.roles.get(name);
    if (role === undefined) throw badRequest(`unknown role: ${name}`);
    if (!mount.root) throw badRequest('no default issuer currently configured');
    if (str(c.body['common_name']) === '') throw badRequest('the common_name field is required');
    const ttl = Math.min(durationField(c.body['ttl'], 'ttl', role.ttl) || role.ttl, role.maxTtl);
    const serial = [...randomBytes(20)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const data = {
      certificate: pem('CERTIFICATE'),
      issuing_ca: pem('CERTIFICATE'),
      ca_chain: [pem('CERTIFICATE')],
      private_key: pem('RSA PRIVATE KEY'),
      private_key_type: 'rsa',
      serial_number: serial,
      expiration: Math.floor(state.now() / 1000) + ttl,
    };
    if (!role.generateLease) return envelope({ data });
    // PKI leases are not renewable; revoking one revokes the certificate.
    return leaseAnswer(state, state.createLease(c.path, c.token!, ttl, ttl, false), data);
  }
  return unsupported();
}

function pkiRoot(c: RouteContext, m: RegExpMatchArray): Record<string, unknown> {
  const mount = c.world.mounts.get(m[1]!);
  if (mount?.type !== 'pki') return unsupported();
  mount.root = true;
  return envelope({
    data: { certificate: pem('CERTIFICATE'), issuing_ca: pem('CERTIFICATE'), serial_number: '01' },
  });
}

/** Mount management and the database and pki engines (auth methods: `authRoutes`). */
export const engineRoutes: readonly Route[] = [
  mountRoute('mounts'),
  mountRoute('auth'),
  {
    methods: ['POST', 'PUT'],
    pattern: /^(.+)\/root\/generate\/internal$/,
    auth: 'token',
    handle: async (c, m) => pkiRoot(c, m),
  },
  {
    methods: ['GET', 'POST', 'PUT'],
    pattern: /^(?!sys\/|auth\/).+$/,
    auth: 'token',
    handle: async (c) => engine(c),
  },
];
