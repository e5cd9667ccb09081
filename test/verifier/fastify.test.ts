// The verifier's fastify plugin on a resource server, against an in-process broker (RFC 6750 §3).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastify, type FastifyInstance } from 'fastify';
import { taskTokenAuth } from '../../verifier/fastify.js';
import { createTaskTokenVerifier, type TaskTokenVerifier } from '../../verifier/index.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { startLiveBroker, TOOL, type LiveBroker } from '../support/live-broker.js';

describe('taskTokenAuth fastify plugin', { timeout: 60_000 }, () => {
  let broker: LiveBroker;
  let verifier: TaskTokenVerifier;
  let server: FastifyInstance;
  const verifierClock = new FakeClock('2025-01-01T00:00:00Z');

  before(async () => {
    broker = await startLiveBroker();
    verifier = createTaskTokenVerifier({
      brokerUrl: broker.url,
      audience: 'crm-api',
      issuer: broker.app.config.issuer,
      credentials: () => broker.svid(TOOL),
      clock: verifierClock,
      maxStalenessMs: 30_000,
    });
    server = fastify() as unknown as FastifyInstance;
    server.get('/healthz', async () => ({ ok: true }));
    await server.register(async (api) => {
      await api.register(taskTokenAuth, { verifier, realm: 'crm', requiredScopes: ['crm:read'] });
      api.get('/tickets', async (request) => ({
        task: request.taskToken?.taskId,
        sub: request.taskToken?.subject.toString(),
      }));
    });
    // onReady waits for the verifier's first catch-up.
    await server.ready();
  });
  after(async () => {
    verifier?.close();
    await server?.close();
    await broker?.stop();
  });

  const get = (authorization?: string) =>
    server.inject({ method: 'GET', url: '/tickets', headers: authorization ? { authorization } : {} });

  it('admits a valid task token and decorates the request with it', async () => {
    const { taskId, token } = await broker.taskWithToken(['crm:read']);
    const res = await get(`Bearer ${token}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { task: taskId, sub: 'spiffe://taskpass.local/dev/workload' });
    assert.equal(
      (await server.inject({ method: 'GET', url: '/healthz' })).statusCode,
      200,
      'outside its scope',
    );
  });

  it('answers each refusal with its status, challenge and code', async () => {
    const live = await broker.taskWithToken(['crm:read']);
    const writeOnly = await broker.taskWithToken(['crm:write']);
    const revoked = await broker.taskWithToken(['crm:read']);
    await broker.complete(revoked.taskId);
    const ended = await broker.app.store.queryEvents({ taskId: revoked.taskId, types: ['task.completed'] });
    await verifier.seen(String(ended.items[0]!.seq));
    const cases: [string, string | undefined, number, string, string | undefined][] = [
      [
        'no credentials (RFC 6750 §3.1: no error code)',
        undefined,
        401,
        'BROKER_AUTH_MISSING',
        'Bearer realm="crm"',
      ],
      [
        'not a bearer token',
        'Basic dXNlcjpwYXNz',
        400,
        'BROKER_AUTH_INVALID',
        'Bearer realm="crm", error="invalid_request", error_description="authorization is not a bearer token"',
      ],
      [
        'malformed token',
        'Bearer not-a-jwt',
        401,
        'BROKER_TOKEN_MALFORMED',
        'Bearer realm="crm", error="invalid_token", error_description="task token is malformed"',
      ],
      [
        'revoked token',
        `Bearer ${revoked.token}`,
        401,
        'BROKER_TOKEN_REVOKED',
        'Bearer realm="crm", error="invalid_token", error_description="task token has been revoked"',
      ],
      [
        'missing required scope',
        `Bearer ${writeOnly.token}`,
        403,
        'BROKER_TOKEN_INSUFFICIENT_SCOPE',
        'Bearer realm="crm", error="insufficient_scope", scope="crm:read"',
      ],
    ];
    for (const [name, auth, status, code, challenge] of cases) {
      const res = await get(auth);
      assert.equal(res.statusCode, status, `${name}: ${res.body}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, code, name);
      assert.equal(res.headers['www-authenticate'], challenge, name);
    }
    assert.equal((await get(`Bearer ${live.token}`)).statusCode, 200, 'a live sibling still passes');
  });

  it('answers 503 without a challenge when the feed is not current (fails closed)', async () => {
    const { token } = await broker.taskWithToken(['crm:read']);
    const now = verifierClock.now();
    verifierClock.advance(60_000);
    try {
      const res = await get(`Bearer ${token}`);
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'BROKER_VERIFIER_FEED_STALE');
      assert.equal(res.headers['www-authenticate'], undefined);
    } finally {
      verifierClock.set(now);
    }
  });
});
