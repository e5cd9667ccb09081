import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../../../broker/errors.js';
import { bearer, harness, TOKENS } from './fakes.js';

describe('operations routes', () => {
  it('answers /healthz without authentication', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('answers /readyz with every check when ready', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready', checks: { store: true, policy: true } });
  });

  it('answers /readyz 503 naming the failing check', async () => {
    const { app, fake } = harness();
    fake.readiness = { store: false, policy: true };
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'BROKER_HTTP_NOT_READY');
    assert.deepEqual(res.json().checks, { store: false, policy: true });
  });

  it('answers /readyz 503 when the health port throws', async () => {
    const { app, fake } = harness();
    fake.failNextWith('health.ready', new Error('db down'));
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'BROKER_HTTP_NOT_READY');
  });

  it('exposes request counters and durations by route template and status in /metrics', async () => {
    const { app } = harness();
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/v1/tasks/task-404', headers: bearer() });
    await app.inject({ method: 'GET', url: '/no/such/path/123' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    assert.match(
      res.body,
      /taskpass_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} 1/,
    );
    assert.match(
      res.body,
      /taskpass_http_requests_total\{method="GET",route="\/v1\/tasks\/:id",status_code="404"\} 1/,
    );
    assert.match(res.body, /route="unmatched",status_code="404"/);
    assert.match(res.body, /taskpass_http_request_duration_seconds_bucket/);
    assert.doesNotMatch(res.body, /task-404|no\/such/, 'no concrete URL becomes a label');
  });

  it('registers default process metrics on the given registry when asked', async () => {
    const { app } = harness({ defaultMetrics: true });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /process_cpu_user_seconds_total/);
  });
});

describe('resource-server discovery routes', () => {
  it('serves the JWKS from the keys port', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().keys[0], {
      kty: 'EC',
      crv: 'P-256',
      x: 'xx',
      y: 'yy',
      kid: 'k1',
      alg: 'ES256',
      use: 'sig',
    });
  });

  it('serves the OpenID discovery document for the base URL', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.issuer, 'https://broker.example.org');
    assert.equal(doc.jwks_uri, 'https://broker.example.org/.well-known/jwks.json');
    assert.equal(doc.token_endpoint, 'https://broker.example.org/oauth2/token');
    assert.equal(doc.introspection_endpoint, 'https://broker.example.org/oauth2/introspect');
    assert.deepEqual(doc.grant_types_supported, ['urn:ietf:params:oauth:grant-type:token-exchange']);
  });

  it('refuses a base URL that cannot be an issuer when the server is built', () => {
    assert.throws(
      () => harness({ baseUrl: 'ftp://broker' }),
      (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_INPUT_INVALID',
    );
  });
});

describe('transport errors', () => {
  it('answers an unknown route with a coded 404', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/v2/nothing' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 'BROKER_HTTP_NOT_FOUND', message: 'no such route' } });
  });

  it('never leaks the message of an unexpected error', async () => {
    const { app, fake, logs } = harness();
    fake.failNextWith('keys.jwks', new Error('connection string postgres://admin:hunter2@db'));
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: { code: 'BROKER_INTERNAL', message: 'internal error' } });
    assert.ok(logs.some((l) => l.msg === 'request failed' && l.error_code === 'BROKER_INTERNAL'));
  });

  it('answers 5xx catalog errors with the catalog message only', async () => {
    const { app, fake } = harness();
    fake.failNextWith('keys.jwks', new BrokerError('BROKER_STORE_UNAVAILABLE', 'ECONNREFUSED 10.0.0.5:5432'));
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), {
      error: { code: 'BROKER_STORE_UNAVAILABLE', message: 'the database is unavailable' },
    });
  });
});

describe('authentication', () => {
  const cases: { name: string; headers: Record<string, string>; code: string }[] = [
    { name: 'no credentials at all', headers: {}, code: 'BROKER_AUTH_MISSING' },
    {
      name: 'a non-bearer scheme',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      code: 'BROKER_AUTH_INVALID',
    },
    {
      name: 'a bearer scheme without a token',
      headers: { authorization: 'Bearer ' },
      code: 'BROKER_AUTH_INVALID',
    },
    {
      name: 'a token with spaces',
      headers: { authorization: 'Bearer a b' },
      code: 'BROKER_AUTH_INVALID',
    },
    {
      name: 'a JWT-SVID the authenticator rejects',
      headers: bearer('forged.jwt.svid'),
      code: 'SPIFFE_JWT_BAD_SIGNATURE',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with 401 and a WWW-Authenticate challenge`, async () => {
      const { app } = harness();
      const res = await app.inject({ method: 'GET', url: '/v1/tasks/task-1', headers: c.headers });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, c.code);
      assert.match(res.headers['www-authenticate'] as string, /^Bearer/);
    });
  }

  it('hands the bearer token to the authenticator, scheme matched case-insensitively', async () => {
    const { app, fake } = harness();
    const task = fake.seedTask();
    const res = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${task.id}`,
      headers: { authorization: `bEaReR ${TOKENS.workload}` },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(fake.authCalls, [{ bearer: TOKENS.workload }]);
  });

  it('redacts the authorization header from request logs', async () => {
    const { app, logs } = harness();
    await app.inject({ method: 'GET', url: '/v1/tasks/x', headers: bearer() });
    assert.ok(logs.length > 0);
    assert.ok(!JSON.stringify(logs).includes(TOKENS.workload));
  });
});
