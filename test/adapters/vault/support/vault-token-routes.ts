// The token store (auth/token/*), leases (sys/leases/*) and response wrapping (sys/wrapping/*) of
// the in-test Vault, answering as Vault's API documents, errors included.
import { PolicyParseError } from './vault-acl.js';
import { badRequest, multiError, VaultApiError, type TokenEntry } from './vault-state.js';
import {
  authBlock,
  durationField,
  envelope,
  lookupData,
  stringList,
  type Route,
  type RouteContext,
} from './vault-world.js';

function str(body: Readonly<Record<string, unknown>>, key: string): string {
  const value = body[key];
  return typeof value === 'string' ? value : '';
}

function caller(ctx: RouteContext): TokenEntry {
  if (ctx.token === undefined) throw new VaultApiError(403, ['permission denied']);
  return ctx.token;
}

function meta(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('meta must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest('meta must be a map of strings');
    out[k] = v;
  }
  return out;
}

/** Token creation with Vault's policy rules: a non-root, non-sudo caller may only grant a subset. */
function create(ctx: RouteContext, orphanPath: boolean): Record<string, unknown> {
  const parent = caller(ctx);
  const { body, world } = ctx;
  const noDefault = body['no_default_policy'] === true;
  const sudo = world.acl.allows(parent.policies, ctx.path, ['sudo']);
  const numUses = body['num_uses'] === undefined ? 0 : Number(body['num_uses']);
  if (!Number.isInteger(numUses)) throw badRequest('num_uses must be an integer');
  if (numUses < 0) throw badRequest('number of uses cannot be negative');
  if (parent.numUses > 0) throw badRequest('restricted use token cannot generate child tokens');
  let policies = stringList(body['policies']);
  const parentPolicies = parent.policies.filter((p) => p !== 'default');
  if (policies.length === 0) {
    policies = [...parent.policies];
  } else if (!sudo) {
    if (!policies.filter((p) => p !== 'default').every((p) => parentPolicies.includes(p))) {
      throw badRequest('child policies must be subset of parent');
    }
    if (parent.policies.includes('default')) policies.push('default');
  } else {
    policies.push('default');
  }
  if (policies.includes('root') && !parent.policies.includes('root')) {
    throw badRequest('root tokens may only be created by a root token');
  }
  if (noDefault) policies = policies.filter((p) => p !== 'default');
  const orphan = orphanPath || (body['no_parent'] === true && (sudo || parent.policies.includes('root')));
  const renewable = body['renewable'] === undefined ? true : body['renewable'] === true;
  // No ttl: the mount's default (32 days), or none at all for a root token.
  const ttl = durationField(body['ttl'] ?? body['lease'], 'ttl', policies.includes('root') ? 0 : 2764800);
  const explicitMaxTtl = durationField(body['explicit_max_ttl'], 'explicit_max_ttl');
  const token = world.state.createToken({
    policies,
    meta: meta(body['meta']),
    displayName: `token${str(body, 'display_name') ? `-${str(body, 'display_name')}` : ''}`,
    path: ctx.path,
    parent: orphan ? undefined : parent,
    ttl,
    explicitMaxTtl,
    renewable,
    numUses,
  });
  return envelope({ auth: authBlock(world.state, token) });
}

function byAccessor(ctx: RouteContext): TokenEntry {
  const accessor = str(ctx.body, 'accessor');
  // Vault's token store returns these as Go errors (multierror text), unlike ErrorResponse ones.
  if (accessor === '') throw multiError(400, 'missing accessor');
  const token = ctx.world.state.byAccessor(accessor);
  if (token === undefined) throw multiError(400, 'invalid accessor');
  return token;
}

function renewAnswer(ctx: RouteContext, token: TokenEntry, hideToken: boolean) {
  ctx.world.state.renew(token, durationField(ctx.body['increment'], 'increment'));
  return envelope({ auth: authBlock(ctx.world.state, token, hideToken ? '' : token.id) });
}

function leaseId(ctx: RouteContext, fromUrl: string | undefined): string {
  const id = str(ctx.body, 'lease_id') || (fromUrl ?? '');
  if (id === '') throw badRequest('lease_id must be specified');
  return id;
}

const TOKEN_ROUTES: Route[] = [
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/create-orphan$/,
    auth: 'token',
    handle: async (c) => create(c, true),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/create$/,
    auth: 'token',
    handle: async (c) => create(c, false),
  },
  {
    methods: ['GET', 'POST'],
    pattern: /^auth\/token\/lookup-self$/,
    auth: 'token',
    capabilities: ['read', 'update'],
    handle: async (c) => envelope({ data: lookupData(c.world.state, caller(c), true) }),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/renew-self$/,
    auth: 'token',
    handle: async (c) => renewAnswer(c, caller(c), false),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/revoke-self$/,
    auth: 'token',
    handle: async (c) => void c.world.state.revoke(caller(c)),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/lookup-accessor$/,
    auth: 'token',
    handle: async (c) => envelope({ data: lookupData(c.world.state, byAccessor(c), false) }),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/renew-accessor$/,
    auth: 'token',
    handle: async (c) => renewAnswer(c, byAccessor(c), true),
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^auth\/token\/revoke-accessor$/,
    auth: 'token',
    async handle(c) {
      const accessor = str(c.body, 'accessor');
      if (accessor === '') throw multiError(400, 'missing accessor');
      const token = c.world.state.byAccessor(accessor);
      // Vault 1.15 and OpenBao: an unknown accessor is a 200 with a warning.
      if (token === undefined) return envelope({ warnings: ['No token found with this accessor'] });
      c.world.state.revoke(token);
      return undefined;
    },
  },
];

const SYS_ROUTES: Route[] = [
  {
    methods: ['POST', 'PUT'],
    pattern: /^sys\/leases\/lookup$/,
    auth: 'token',
    async handle(c) {
      const lease = c.world.state.lease(leaseId(c, undefined));
      if (lease === undefined) throw badRequest('invalid lease');
      const data = {
        id: lease.id,
        issue_time: new Date(lease.issueTime).toISOString(),
        expire_time: new Date(lease.expireAt).toISOString(),
        last_renewal: lease.lastRenewal === undefined ? null : new Date(lease.lastRenewal).toISOString(),
        renewable: lease.renewable,
        ttl: c.world.state.ttlOf(lease),
      };
      return envelope({ data });
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^sys\/leases\/renew(?:\/(.+))?$/,
    auth: 'token',
    async handle(c, m) {
      const lease = c.world.state.lease(leaseId(c, m[1]));
      if (lease === undefined) throw badRequest('lease not found');
      if (!lease.renewable) throw badRequest('lease is not renewable');
      const now = c.world.state.now();
      const increment = durationField(c.body['increment'], 'increment', 3600);
      lease.expireAt = Math.min(now + increment * 1000, lease.maxAt);
      lease.lastRenewal = now;
      return { lease_id: lease.id, renewable: true, lease_duration: c.world.state.ttlOf(lease) };
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^sys\/leases\/revoke(?:\/(.+))?$/,
    auth: 'token',
    async handle(c, m) {
      // Vault revokes an unknown lease id without complaint.
      c.world.state.revokeLease(leaseId(c, m[1]));
      return undefined;
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^sys\/wrapping\/unwrap$/,
    auth: 'token',
    async handle(c) {
      const named = str(c.body, 'token');
      const wrapping = named === '' ? caller(c) : c.world.state.token(named);
      if (wrapping?.wrapped === undefined) throw badRequest('wrapping token is not valid or does not exist');
      if (named !== '') c.world.state.revoke(wrapping);
      return wrapping.wrapped.body;
    },
  },
  {
    methods: ['POST', 'PUT'],
    pattern: /^sys\/(?:policies\/acl|policy)\/([^/]+)$/,
    auth: 'token',
    async handle(c, m) {
      const text = str(c.body, 'policy') || str(c.body, 'rules');
      if (text === '') throw badRequest("'policy' parameter not supplied or empty");
      try {
        c.world.acl.put(m[1]!, text);
      } catch (err) {
        if (err instanceof PolicyParseError) throw badRequest(err.message);
        throw err;
      }
      return undefined;
    },
  },
];

/** The token store, lease and wrapping routes, and policy writes. */
export const tokenRoutes: readonly Route[] = [...TOKEN_ROUTES, ...SYS_ROUTES];
