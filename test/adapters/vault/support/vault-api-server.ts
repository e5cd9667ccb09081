// An HTTP server inside the test suite that answers as Vault's documented API does, for the endpoints
// the vault adapter and its suites use: the token store, leases, response wrapping, ACL policies,
// mounts, the database and pki engines, approle and jwt auth. It keeps real state (tokens and leases
// stop working when revoked or expired by the injected clock, num_uses run out), enforces policies,
// and answers errors in Vault's shape ({"errors": [...]}, 400/403/404/5xx). Faults can be injected.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../../spiffe/clock.js';
import { AclStore, type Capability } from './vault-acl.js';
import { authRoutes } from './vault-auth-routes.js';
import { engineRoutes } from './vault-engine-routes.js';
import { badRequest, permissionDenied, VaultApiError, VaultState } from './vault-state.js';
import { tokenRoutes } from './vault-token-routes.js';
import { durationField, envelope, type Route, type VaultWorld } from './vault-world.js';

/** A fault for the next request whose path starts with `path` (any request without one). */
export interface VaultFault {
  readonly path?: string;
  /** Answer this status with `{"errors": errors}` instead. */
  readonly status?: number;
  readonly errors?: readonly string[];
  /** Answer this text (status 200 unless `status`), e.g. malformed JSON. */
  readonly rawBody?: string;
  /** Wait this long before answering (the client's timeout fires first). */
  readonly delayMs?: number;
  /** Close the connection without an answer. */
  readonly hangUp?: boolean;
  /** Rewrite the real answer's JSON. */
  readonly mutate?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** Run the real handler first (state changes happen), then apply the fault to its answer. */
  readonly afterHandling?: boolean;
}

/** One request as received (never its token). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: {
    readonly vaultRequest: string | undefined;
    readonly namespace: string | undefined;
    readonly wrapTtl: string | undefined;
    readonly hasToken: boolean;
  };
  readonly body: Readonly<Record<string, unknown>>;
}

export interface VaultApiServer {
  /** `http://127.0.0.1:PORT`. */
  readonly address: string;
  readonly rootToken: string;
  readonly world: VaultWorld;
  readonly requests: RecordedRequest[];
  failNext(fault: VaultFault): void;
  close(): Promise<void>;
}

// Order matters: specific routes first, the catch-all engine route last.
const ROUTES: readonly Route[] = [...tokenRoutes, ...authRoutes, ...engineRoutes];

function defaultCapabilities(method: string): Capability[] {
  return method === 'GET' ? ['read'] : ['create', 'update'];
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badRequest(`failed to parse JSON input: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('failed to parse JSON input: not an object');
  }
  return parsed as Record<string, unknown>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Runs the route for one request: authentication, ACL, num_uses, wrapping. */
async function dispatch(
  world: VaultWorld,
  req: IncomingMessage,
  path: string,
  body: Record<string, unknown>,
) {
  const method = req.method ?? 'GET';
  const found = ROUTES.map((r) => ({ r, m: r.methods.includes(method) ? path.match(r.pattern) : null })).find(
    (x) => x.m !== null,
  );
  if (found === undefined) throw new VaultApiError(405, ['1 error occurred:\n\t* unsupported operation\n\n']);
  const { r: route, m } = found;
  const token = world.state.token(header(req, 'x-vault-token'));
  let lastUse = false;
  if (route.auth === 'token') {
    if (token === undefined) throw permissionDenied('invalid token');
    // Wrapping tokens can only unwrap (Vault's "response-wrapping" policy).
    if (!world.acl.allows(token.policies, path, route.capabilities ?? defaultCapabilities(method))) {
      throw permissionDenied();
    }
    if (token.numUses > 0) {
      token.numUses -= 1;
      lastUse = token.numUses === 0;
    }
  }
  try {
    return await route.handle(
      { world, method, path, body, token: route.auth === 'token' ? token : undefined },
      m!,
    );
  } finally {
    // A token whose last use this was is revoked once the request is done (Vault's use count).
    if (lastUse && token !== undefined) world.state.revoke(token);
  }
}

function wrap(world: VaultWorld, answer: Record<string, unknown>, ttlHeader: string, path: string) {
  const ttl = durationField(ttlHeader, 'X-Vault-Wrap-TTL');
  if (ttl === 0) throw badRequest('invalid wrap ttl');
  const wrapping = world.state.createToken({
    policies: ['response-wrapping'],
    displayName: '',
    path: 'sys/wrapping/wrap',
    parent: undefined,
    ttl,
    renewable: false,
    numUses: 1,
  });
  wrapping.wrapped = { body: answer, creationPath: path };
  const auth = answer['auth'] as { accessor?: string } | null;
  return envelope({
    wrap_info: {
      token: wrapping.id,
      accessor: wrapping.accessor,
      ttl,
      creation_time: new Date(wrapping.creationTime).toISOString(),
      creation_path: path,
      wrapped_accessor: auth?.accessor ?? '',
    },
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Starts the in-test Vault on 127.0.0.1 with a root token (`root`, as `vault server -dev
 * -dev-root-token-id=root`), on `clock`.
 */
export async function startVaultApiServer(opts: {
  clock: Clock;
  rootToken?: string;
}): Promise<VaultApiServer> {
  const world: VaultWorld = {
    state: new VaultState(opts.clock),
    acl: new AclStore(),
    mounts: new Map(),
    auths: new Map(),
  };
  const rootToken = opts.rootToken ?? 'root';
  world.state.addRoot(rootToken);
  const faults: VaultFault[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault.test');
    if (!url.pathname.startsWith('/v1/')) return send(res, 404, { errors: [] });
    const path = url.pathname.slice(4).replace(/\/+$/, '');
    const index = faults.findIndex((f) => f.path === undefined || path.startsWith(f.path));
    const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
    let status = 200;
    let answer: unknown;
    try {
      const body = await readBody(req);
      requests.push({
        method: req.method ?? 'GET',
        path,
        headers: {
          vaultRequest: header(req, 'x-vault-request'),
          namespace: header(req, 'x-vault-namespace'),
          wrapTtl: header(req, 'x-vault-wrap-ttl'),
          hasToken: header(req, 'x-vault-token') !== undefined,
        },
        body,
      });
      if (fault !== undefined && !fault.afterHandling) return await applyFault(res, fault, undefined);
      answer = await dispatch(world, req, path, body);
      const wrapTtl = header(req, 'x-vault-wrap-ttl');
      if (answer !== undefined && wrapTtl !== undefined)
        answer = wrap(world, answer as Record<string, unknown>, wrapTtl, path);
      if (answer === undefined) status = 204;
    } catch (err) {
      if (!(err instanceof VaultApiError)) throw err;
      status = err.status;
      answer = { errors: err.errors };
    }
    if (fault !== undefined) return applyFault(res, fault, answer as Record<string, unknown> | undefined);
    send(res, status, answer);
  }

  async function applyFault(
    res: ServerResponse,
    fault: VaultFault,
    answer: Record<string, unknown> | undefined,
  ) {
    if (fault.delayMs !== undefined) await delay(fault.delayMs);
    if (fault.hangUp) return void res.destroy();
    if (fault.mutate !== undefined && answer !== undefined)
      return send(res, 200, fault.mutate(structuredClone(answer)));
    if (fault.rawBody !== undefined) {
      if (res.destroyed) return;
      res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' });
      return void res.end(fault.rawBody);
    }
    if (fault.status !== undefined) return send(res, fault.status, { errors: fault.errors ?? [] });
    send(res, answer === undefined ? 204 : 200, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { errors: [`internal error: ${String(err)}`] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    rootToken,
    world,
    requests,
    failNext: (fault) => void faults.push(fault),
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
