// The OpenAPI document at /docs is generated from the route schemas: it must list exactly the routes
// the server registers (derived from the server itself, with an onRoute hook, so the expectation
// cannot drift from the code), over the real app's ports (every optional router wired) and over the
// fakes (the optional routers absent).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { httpPortsFromApp } from '../../../../broker/api/app-ports.js';
import { createHttpServer } from '../../../../broker/api/http/server.js';
import { createApp, type App } from '../../../../broker/app.js';
import { parseConfig } from '../../../../broker/config.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { repositoryRoot } from '../../../support/repo-root.js';
import { harness } from './fakes.js';

/**
 * The HTTP interface DESIGN.md names ("Interfaces: HTTP"): the real server must serve each of these
 * (and document it). The full list is not written here: it is whatever the server registers.
 */
const DESIGN_ROUTES = [
  'post /v1/tasks',
  'get /v1/tasks/{id}',
  'post /v1/tasks/{id}/complete',
  'post /v1/tasks/{id}/fail',
  'post /v1/tasks/{id}/credentials',
  'post /oauth2/token',
  'get /.well-known/jwks.json',
  'get /.well-known/openid-configuration',
  'post /oauth2/introspect',
  'get /v1/revocations/stream',
  'get /v1/tasks',
  'post /v1/revocations',
  'post /v1/quarantines',
  'post /v1/signals',
  'get /v1/audit/events',
  'get /v1/audit/verify',
  'get /healthz',
  'get /readyz',
  'get /metrics',
];

/** Routes that only exist when their port is wired: absent from a server over the fakes. */
const OPTIONAL_ROUTES = ['post /v1/revocations', 'post /v1/quarantines', 'post /v1/signals'];

/**
 * Collects every route `server` registers from now on, as `method /path/{param}` (OpenAPI's path
 * syntax): fastify registers plugin routes when the server gets ready, which runs the hook. HEAD
 * routes fastify adds for each GET, and routes whose schema is hidden (the docs UI), are left out as
 * the document leaves them out.
 */
function recordRoutes(server: FastifyInstance): Set<string> {
  const routes = new Set<string>();
  server.addHook('onRoute', (route: RouteOptions) => {
    if ((route.schema as { hide?: boolean } | undefined)?.hide === true) return;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.add(`${method.toLowerCase()} ${path}`);
    }
  });
  return routes;
}

/** The operations of the OpenAPI document `server` serves, as `method /path`. */
async function documented(server: FastifyInstance): Promise<string[]> {
  const res = await server.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.1.0');
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
    .sort();
}

describe('OpenAPI at /docs', () => {
  let dir: string;
  let app: App;
  let real: FastifyInstance;
  let realRoutes: Set<string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-openapi-'));
    const config = parseConfig({
      env: {
        TASKPASS_DATA_DIR: dir,
        TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
      },
      cwd: dir,
    });
    const clock = new FakeClock('2025-01-01T00:00:00Z');
    app = await createApp(config, {
      clock,
      logger: pino({ level: 'silent' }),
      timers: clock,
      executor: await createPgliteExecutor(),
      taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
      watchPolicy: false,
    });
    real = createHttpServer(httpPortsFromApp(app), {
      logger: pino({ level: 'silent' }),
      baseUrl: config.issuer,
      metrics: new Registry(),
      defaultMetrics: false,
    });
    realRoutes = recordRoutes(real);
    await real.ready();
  });
  after(async () => {
    await real?.close();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists exactly the routes the real server registers, every optional router wired', async () => {
    assert.deepEqual(await documented(real), [...realRoutes].sort());
  });

  it('the real server serves the whole HTTP interface of DESIGN.md', () => {
    const missing = DESIGN_ROUTES.filter((r) => !realRoutes.has(r));
    assert.deepEqual(missing, []);
    for (const route of DESIGN_ROUTES) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      assert.ok(real.hasRoute({ method: method.toUpperCase() as 'GET', url }), route);
    }
  });

  it('lists exactly the routes a server over fewer ports registers (optional routers absent)', async () => {
    const { app: fake } = harness();
    const routes = recordRoutes(fake);
    await fake.ready();
    assert.deepEqual(await documented(fake), [...routes].sort());
    for (const route of OPTIONAL_ROUTES) assert.ok(!routes.has(route), route);
    assert.ok(routes.has('post /v1/tasks'));
  });

  it('documents bodies, closed schemas and the two security schemes', async () => {
    const doc = (await real.inject({ method: 'GET', url: '/docs/json' })).json();
    const start = doc.paths['/v1/tasks'].post;
    const body = start.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(start.security, [{ bearer: [] }, { mutualTLS: [] }]);
    assert.ok(doc.paths['/oauth2/token'].post.requestBody.content['application/x-www-form-urlencoded']);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'mutualTLS']);
    assert.equal(doc.components.securitySchemes.mutualTLS.type, 'mutualTLS');
  });

  it('serves the UI at /docs', async () => {
    const res = await real.inject({ method: 'GET', url: '/docs/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
  });

  it('can be turned off', async () => {
    const { app: off } = harness({ docs: false });
    const res = await off.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 404);
  });
});
