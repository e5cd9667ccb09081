// The auth methods the broker logs in with in the in-test Vault: approle (role, role-id, secret-id,
// login) and jwt (config with validation keys, roles binding audience and subject, login).
import { createPublicKey, randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { badRequest, VaultApiError } from './vault-state.js';
import {
  authBlock,
  durationField,
  envelope,
  stringList,
  type AuthMount,
  type LoginRole,
  type Route,
  type RouteContext,
} from './vault-world.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function authMount<T extends AuthMount['type']>(c: RouteContext, path: string, type: T) {
  const mount = c.world.auths.get(path);
  if (mount?.type !== type)
    throw new VaultApiError(404, [`no handler for route "auth/${path}". route entry not found.`]);
  return mount as Extract<AuthMount, { type: T }>;
}

function loginRole(body: Readonly<Record<string, unknown>>): LoginRole {
  return {
    policies: stringList(body['token_policies'] ?? body['policies']),
    ttl: durationField(body['token_ttl'], 'token_ttl', 2764800),
    maxTtl: durationField(body['token_max_ttl'], 'token_max_ttl', 0),
  };
}

function login(c: RouteContext, role: LoginRole, path: string, meta: Record<string, string>) {
  const token = c.world.state.createToken({
    policies: [...role.policies, 'default'],
    meta,
    displayName: path.split('/')[1] ?? 'login',
    path,
    parent: undefined,
    ttl: role.ttl,
    ...(role.maxTtl > 0 && { maxTtl: role.maxTtl }),
    renewable: true,
  });
  return envelope({ auth: authBlock(c.world.state, token) });
}

const APPROLE: Route[] = [
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/(.+)\/role\/([^/]+)$/,
    auth: 'token',
    async handle(c, m) {
      const mount = authMount(c, m[1]!, 'approle');
      const old = mount.roles.get(m[2]!);
      mount.roles.set(m[2]!, {
        ...loginRole(c.body),
        roleId: old?.roleId ?? randomUUID(),
        secretIds: old?.secretIds ?? new Set(),
      });
      return undefined;
    },
  },
  {
    methods: ['GET'],
    pattern: /^auth\/(.+)\/role\/([^/]+)\/role-id$/,
    auth: 'token',
    async handle(c, m) {
      const role = authMount(c, m[1]!, 'approle').roles.get(m[2]!);
      if (role === undefined) throw new VaultApiError(404, []);
      return envelope({ data: { role_id: role.roleId } });
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/(.+)\/role\/([^/]+)\/secret-id$/,
    auth: 'token',
    async handle(c, m) {
      const role = authMount(c, m[1]!, 'approle').roles.get(m[2]!);
      if (role === undefined) throw badRequest(`role "${m[2]}" does not exist`);
      const secretId = randomUUID();
      role.secretIds.add(secretId);
      return envelope({ data: { secret_id: secretId, secret_id_accessor: randomUUID(), secret_id_ttl: 0 } });
    },
  },
];

async function jwtLogin(c: RouteContext, mountPath: string): Promise<Record<string, unknown>> {
  const mount = authMount(c, mountPath, 'jwt');
  const name = str(c.body['role']);
  const role = mount.roles.get(name);
  if (role === undefined) throw badRequest(`role "${name}" could not be found`);
  const jwt = str(c.body['jwt']);
  if (jwt === '') throw badRequest('missing token');
  let claims: Record<string, unknown> | undefined;
  for (const key of mount.keys) {
    try {
      const verified = await jwtVerify(jwt, key, {
        currentDate: c.world.state.clock.now(),
        clockTolerance: 150,
        ...(mount.boundIssuer !== undefined && { issuer: mount.boundIssuer }),
      });
      claims = verified.payload as Record<string, unknown>;
      break;
    } catch {
      // try the next key, as Vault does over jwt_validation_pubkeys
    }
  }
  if (claims === undefined) throw badRequest('error validating token: failed to verify id token signature');
  const aud = Array.isArray(claims['aud']) ? claims['aud'] : [claims['aud']];
  if (role.boundAudiences.length > 0 && !aud.some((a) => role.boundAudiences.includes(a as string))) {
    throw badRequest(
      'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
    );
  }
  if (role.boundSubject !== undefined && claims['sub'] !== role.boundSubject) {
    throw badRequest('error validating token: sub claim does not match bound subject');
  }
  const user = claims[role.userClaim];
  if (typeof user !== 'string') throw badRequest(`claim "${role.userClaim}" not found in token`);
  return login(c, role, `auth/${mountPath}/login`, { role: name });
}

const JWT: Route[] = [
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/(.+)\/config$/,
    auth: 'token',
    async handle(c, m) {
      const mount = authMount(c, m[1]!, 'jwt');
      mount.keys = stringList(c.body['jwt_validation_pubkeys']).map((p) => createPublicKey(p));
      mount.boundIssuer = str(c.body['bound_issuer']) || undefined;
      return undefined;
    },
  },
];

/** Routes shared by both auth methods that differ by mount type. */
const LOGIN_ROUTES: Route[] = [
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/(.+)\/login$/,
    auth: 'none',
    async handle(c, m) {
      const mount = c.world.auths.get(m[1]!);
      if (mount?.type === 'jwt') return jwtLogin(c, m[1]!);
      if (mount?.type !== 'approle')
        throw new VaultApiError(404, [`no handler for route "${c.path}". route entry not found.`]);
      const role = [...mount.roles.values()].find((r) => r.roleId === str(c.body['role_id']));
      if (role === undefined || !role.secretIds.has(str(c.body['secret_id']))) {
        throw badRequest('invalid role or secret ID');
      }
      return login(c, role, c.path, {});
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/(.+)\/role\/([^/]+)$/,
    auth: 'token',
    async handle(c, m) {
      const mount = c.world.auths.get(m[1]!);
      if (mount?.type === 'approle') return APPROLE[0]!.handle(c, m);
      const jwtMount = authMount(c, m[1]!, 'jwt');
      if (str(c.body['role_type']) !== 'jwt') throw badRequest('this server supports role_type jwt only');
      jwtMount.roles.set(m[2]!, {
        ...loginRole(c.body),
        boundAudiences: stringList(c.body['bound_audiences']),
        boundSubject: str(c.body['bound_subject']) || undefined,
        userClaim: str(c.body['user_claim']) || 'sub',
      });
      return undefined;
    },
  },
];

/** The approle and jwt auth methods' routes. */
export const authRoutes: readonly Route[] = [...LOGIN_ROUTES, ...APPROLE.slice(1), ...JWT];
