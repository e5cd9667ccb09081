import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCESS_TOKEN_TYPE,
  createTokenExchange,
  JWT_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchange,
  type TokenExchangeParams,
} from '../../../broker/issuance/token-exchange.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BROKER_AUDIENCE, createHarness, START, type Harness } from './support/harness.js';

describe('RFC 8693 token exchange', () => {
  let h: Harness;
  let tx: TokenExchange;
  let svid: string;
  let taskId: string;
  const params = (over: Partial<TokenExchangeParams> = {}): TokenExchangeParams => ({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: svid,
    subject_token_type: JWT_TOKEN_TYPE,
    resource: `urn:taskpass:task:${taskId}`,
    audience: 'crm-api',
    ...over,
  });

  before(async () => {
    h = await createHarness();
    tx = createTokenExchange({
      authenticator: h.authenticator,
      issuance: h.issuance,
      providers: h.providers,
    });
    const id = SpiffeId.parse('spiffe://taskpass.local/agents/oauth');
    svid = (await h.ca.mintJwtSvid({ id, now: h.clock.now(), audience: [BROKER_AUDIENCE] })).token;
    taskId = (await h.tasks.start(await h.authenticator.authenticateBearer(svid), START)).id;
  });
  after(() => h.close());

  it('exchanges a JWT-SVID for a task token that introspects active and is in the ledger', async () => {
    const result = await tx.exchange(params({ scope: 'crm:read' }));
    assert.ok(result.ok);
    assert.equal(result.body.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(result.body.token_type, 'Bearer');
    assert.equal(result.body.scope, 'crm:read');
    assert.equal(result.body.expires_in, 300);
    const introspected = await h.introspector.introspect(result.body.access_token);
    assert.equal(introspected.active, true);
    assert.equal((await h.events('credential.issued', taskId)).length, 1);
  });

  const refusals: [string, Partial<TokenExchangeParams>, string, number][] = [
    ['another grant type', { grant_type: 'client_credentials' }, 'unsupported_grant_type', 400],
    ['a missing subject token', { subject_token: undefined }, 'invalid_request', 400],
    [
      'another subject token type',
      { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      'invalid_request',
      400,
    ],
    ['an invalid subject token', { subject_token: 'a.b.c' }, 'invalid_request', 400],
    ['a resource that is not a task', { resource: 'https://crm.example' }, 'invalid_target', 400],
    [
      'an unknown task',
      { resource: 'urn:taskpass:task:00000000-0000-4000-8000-000000000000' },
      'invalid_target',
      400,
    ],
    ['a provider that is not a jwt provider', { audience: 'fake-api' }, 'invalid_target', 400],
    ['a scope outside the manifest', { scope: 'crm:write' }, 'invalid_scope', 400],
  ];
  for (const [name, over, error, status] of refusals) {
    it(`answers ${name} with ${error}`, async () => {
      const result = await tx.exchange(params(over));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.body.error, error);
      assert.equal(result.status, status);
    });
  }
});
