import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../../../broker/errors.js';
import { parseForm } from '../../../../broker/api/http/routes/oauth.js';
import { bearer, harness, TOKENS } from './fakes.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function form(params: Record<string, string | string[]>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) out.append(k, one);
  return out.toString();
}

const EXCHANGE = {
  grant_type: GRANT,
  subject_token: TOKENS.workload,
  subject_token_type: JWT_TYPE,
  resource: 'urn:taskpass:task:task-1',
  audience: 'crm-api',
  scope: 'crm.read crm.write',
};

describe('POST /oauth2/token (RFC 8693)', () => {
  it('exchanges a JWT-SVID for a task token in the RFC 8693 §2.2.1 shape, not cached', async () => {
    const { app, fake } = harness();
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: FORM,
      payload: form(EXCHANGE),
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      access_token: fake.liveToken,
      issued_token_type: JWT_TYPE,
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'crm.read crm.write',
    });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['pragma'], 'no-cache');
    assert.deepEqual(fake.exchanges[0], {
      subjectToken: TOKENS.workload,
      subjectTokenType: JWT_TYPE,
      resources: ['urn:taskpass:task:task-1'],
      audiences: ['crm-api'],
      scopes: ['crm.read', 'crm.write'],
    });
  });

  it('accepts repeated resource and audience and ignores unknown parameters (RFC 6749 §3.2)', async () => {
    const { app, fake } = harness();
    const payload = form({
      ...EXCHANGE,
      resource: ['urn:a', 'urn:b'],
      audience: ['x', 'y'],
      client_hint: 'z',
    });
    const res = await app.inject({ method: 'POST', url: '/oauth2/token', headers: FORM, payload });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(fake.exchanges[0]?.resources, ['urn:a', 'urn:b']);
    assert.deepEqual(fake.exchanges[0]?.audiences, ['x', 'y']);
  });

  const refusals: {
    name: string;
    payload: string;
    headers?: Record<string, string>;
    status: number;
    error: string;
    code: string;
  }[] = [
    {
      name: 'another grant type',
      payload: form({ ...EXCHANGE, grant_type: 'client_credentials' }),
      status: 400,
      error: 'unsupported_grant_type',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'no subject token',
      payload: form({ grant_type: GRANT, subject_token_type: JWT_TYPE }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'a repeated scope',
      payload: form({ ...EXCHANGE, scope: ['a', 'b'] }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'a malformed scope',
      payload: form({ ...EXCHANGE, scope: 'a  b' }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'an oversized subject token',
      payload: form({ ...EXCHANGE, subject_token: 'a'.repeat(8193) }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'an actor token (no delegation)',
      payload: form({ ...EXCHANGE, actor_token: 'x', actor_token_type: JWT_TYPE }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'an expired subject token',
      payload: form({ ...EXCHANGE, subject_token: 'stale.jwt' }),
      status: 400,
      error: 'invalid_request',
      code: 'SPIFFE_JWT_EXPIRED',
    },
    {
      name: 'a JSON body',
      payload: JSON.stringify(EXCHANGE),
      headers: { 'content-type': 'application/json' },
      status: 415,
      error: 'invalid_request',
      code: 'BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'no body',
      payload: '',
      headers: {},
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'a body over the limit',
      payload: form({ ...EXCHANGE, pad: 'a'.repeat(70_000) }),
      status: 413,
      error: 'invalid_request',
      code: 'BROKER_HTTP_BODY_TOO_LARGE',
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with ${r.status} ${r.error} in the RFC 6749 §5.2 shape`, async () => {
      const { app } = harness();
      const res = await app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: r.headers ?? FORM,
        payload: r.payload,
      });
      assert.equal(res.statusCode, r.status, res.body);
      const body = res.json();
      assert.equal(body.error, r.error);
      assert.equal(body.error_code, r.code);
      assert.equal(typeof body.error_description, 'string');
      assert.equal(res.headers['cache-control'], 'no-store');
    });
  }

  const portErrors: { err: Error; status: number; error: string }[] = [
    { err: new BrokerError('BROKER_TASK_NOT_FOUND'), status: 400, error: 'invalid_target' },
    { err: new BrokerError('BROKER_POLICY_DENIED'), status: 400, error: 'invalid_target' },
    { err: new BrokerError('BROKER_ADAPTER_UNKNOWN_PROVIDER'), status: 400, error: 'invalid_target' },
    { err: new BrokerError('BROKER_TASK_ALREADY_ENDED'), status: 400, error: 'invalid_target' },
    { err: new BrokerError('BROKER_POLICY_RATE_LIMITED'), status: 429, error: 'temporarily_unavailable' },
    {
      err: new BrokerError('BROKER_STORE_UNAVAILABLE', 'ECONNREFUSED'),
      status: 503,
      error: 'temporarily_unavailable',
    },
    { err: new Error('boom'), status: 500, error: 'server_error' },
  ];
  for (const p of portErrors) {
    it(`maps ${(p.err as { code?: string }).code ?? 'an unexpected error'} to ${p.status} ${p.error}`, async () => {
      const { app, fake } = harness();
      fake.failNextWith('tokenExchange.exchange', p.err);
      const res = await app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: FORM,
        payload: form(EXCHANGE),
      });
      assert.equal(res.statusCode, p.status);
      assert.equal(res.json().error, p.error);
      assert.doesNotMatch(res.body, /ECONNREFUSED|boom/);
    });
  }
});

describe('POST /oauth2/introspect (RFC 7662)', () => {
  it('answers an active token with its RFC 7662 §2.2 members', async () => {
    const { app, fake } = harness();
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/introspect',
      headers: { ...FORM, ...bearer(TOKENS.operator) },
      payload: form({ token: fake.liveToken, token_type_hint: 'access_token' }),
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      active: true,
      scope: 'crm.read',
      sub: 'spiffe://example.org/agent',
      aud: 'crm-api',
      exp: 1735690000,
      task_id: 'task-1',
      token_type: 'Bearer',
    });
  });

  it('answers an unknown token with exactly {active: false}', async () => {
    const { app } = harness();
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/introspect',
      headers: { ...FORM, ...bearer(TOKENS.operator) },
      payload: form({ token: 'revoked' }),
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { active: false });
  });

  const refusals: {
    name: string;
    headers: Record<string, string>;
    payload: string;
    status: number;
    error: string;
    code: string;
  }[] = [
    {
      name: 'an unauthenticated caller',
      headers: FORM,
      payload: form({ token: 'x' }),
      status: 401,
      error: 'invalid_token',
      code: 'BROKER_AUTH_MISSING',
    },
    {
      name: 'a caller with a bad SVID',
      headers: { ...FORM, ...bearer('bad.svid') },
      payload: form({ token: 'x' }),
      status: 401,
      error: 'invalid_token',
      code: 'SPIFFE_JWT_BAD_SIGNATURE',
    },
    {
      name: 'a workload that is not a resource server',
      headers: { ...FORM, ...bearer() },
      payload: form({ token: 'x' }),
      status: 403,
      error: 'insufficient_scope',
      code: 'BROKER_POLICY_DENIED',
    },
    {
      name: 'no token parameter',
      headers: { ...FORM, ...bearer(TOKENS.operator) },
      payload: form({ token_type_hint: 'access_token' }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
    {
      name: 'a repeated token',
      headers: { ...FORM, ...bearer(TOKENS.operator) },
      payload: form({ token: ['a', 'b'] }),
      status: 400,
      error: 'invalid_request',
      code: 'BROKER_INPUT_INVALID',
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with ${r.status} ${r.error}`, async () => {
      const { app } = harness();
      const res = await app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: r.headers,
        payload: r.payload,
      });
      assert.equal(res.statusCode, r.status, res.body);
      assert.equal(res.json().error, r.error);
      assert.equal(res.json().error_code, r.code);
      if (r.status === 401)
        assert.match(res.headers['www-authenticate'] as string, /^Bearer error="invalid_token"/);
    });
  }
});

describe('parseForm', () => {
  it('decodes application/x-www-form-urlencoded, repeated keys as arrays, without prototype keys', () => {
    const parsed = parseForm('a=1&b=x+y%21&a=2&__proto__=p&constructor=c');
    assert.deepEqual({ ...parsed }, { a: ['1', '2'], b: 'x y!', ['__proto__']: 'p', constructor: 'c' });
    assert.equal(Object.getPrototypeOf(parsed), null);
  });
});
