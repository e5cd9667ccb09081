// How the broker authenticates to Vault: a static token (file), AppRole, or its own JWT-SVID through
// Vault's JWT auth method; the session caches the token, renews it at half its TTL and logs in again
// when renewal is cut short, fails, or Vault stops honouring the cached token.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createVaultAdapter } from '../../../adapters/vault/index.js';
import {
  issueRequest,
  needsInTestServer,
  providerConfig,
  rejectsWith,
  sharedTarget,
  TOKEN_MODE,
} from './support/vault-fixture.js';
import { NAMES, type VaultTarget } from './support/vault-target.js';

const target = sharedTarget();

const APPROLE_LOGIN = `auth/${NAMES.approleMount}/login`;
const JWT_LOGIN = `auth/${NAMES.jwtMount}/login`;

function approle(t: VaultTarget) {
  return { method: 'approle', mount: NAMES.approleMount, role_id: t.roleId, secret_id_file: t.secretIdFile };
}

function jwt(extra: Record<string, unknown> = {}) {
  return {
    method: 'jwt',
    mount: NAMES.jwtMount,
    role: NAMES.brokerRole,
    audience: NAMES.jwtAudience,
    ...extra,
  };
}

/** An adapter whose broker logs in with `auth`, and a way to run one issuance through it. */
function withAuth(t: VaultTarget, auth: Record<string, unknown>, jwtSvid = (aud: string) => t.jwtSvid(aud)) {
  const adapter = createVaultAdapter({ clock: t.clock, jwtSvid });
  const config = adapter.parseConfig(providerConfig(t, { ...TOKEN_MODE, auth }));
  return { adapter, config, issue: () => adapter.issue(issueRequest(t, config)) };
}

function count(t: VaultTarget, path: string, since: number): number {
  return t.server!.requests.slice(since).filter((r) => r.path === path).length;
}

describe('vault auth: logging in', () => {
  const methods: [string, (t: VaultTarget) => Record<string, unknown>][] = [
    ['a static token from a file', (t) => ({ method: 'token', token_file: t.brokerTokenFile })],
    ['approle', approle],
    ['the broker’s JWT-SVID through jwt auth', () => jwt()],
  ];
  for (const [name, auth] of methods) {
    it(`issues with ${name}`, async () => {
      const t = await target();
      const issued = await withAuth(t, auth(t)).issue();
      assert.equal(await t.accepts(issued.secret), true);
    });
  }

  it('logs in once for concurrent calls, without sending a token to the login endpoint', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const since = t.server!.requests.length;
    const { issue } = withAuth(t, approle(t));
    await Promise.all([issue(), issue(), issue(), issue()]);
    assert.equal(count(t, APPROLE_LOGIN, since), 1);
    const logins = t.server!.requests.slice(since).filter((r) => r.path === APPROLE_LOGIN);
    assert.equal(logins[0]!.headers.hasToken, false);
    assert.ok(t.server!.requests.slice(since).every((r) => r.headers.vaultRequest === 'true'));
  });

  it('sends the JWT-SVID for the configured audience and role', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const audiences: string[] = [];
    const since = t.server!.requests.length;
    await withAuth(t, jwt(), (aud) => (audiences.push(aud), t.jwtSvid(aud))).issue();
    assert.deepEqual(audiences, [NAMES.jwtAudience]);
    const login = t.server!.requests.slice(since).find((r) => r.path === JWT_LOGIN)!;
    assert.equal(login.body['role'], NAMES.brokerRole);
    assert.equal(typeof login.body['jwt'], 'string');
  });

  it('reads the JWT from jwt_file when configured', async () => {
    const t = await target();
    const file = join(t.dir, 'jwt-svid');
    await writeFile(file, await t.jwtSvid(NAMES.jwtAudience));
    const refuse = async (): Promise<string> => {
      throw new Error('the file should be used');
    };
    const issued = await withAuth(t, jwt({ jwt_file: file }), refuse).issue();
    assert.equal(await t.accepts(issued.secret), true);
  });

  const refusals: [string, (t: VaultTarget) => ReturnType<typeof withAuth>, string][] = [
    ['an unknown jwt role', (t) => withAuth(t, jwt({ role: 'nobody' })), 'BROKER_ADAPTER_BACKEND_REJECTED'],
    [
      'a JWT-SVID for another audience',
      (t) => withAuth(t, jwt({ audience: 'not-vault' })),
      'BROKER_ADAPTER_BACKEND_REJECTED',
    ],
    [
      'a JWT-SVID source that fails',
      (t) => withAuth(t, jwt(), () => Promise.reject(new Error('agent down'))),
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'a wrong approle secret id',
      (t) => withAuth(t, { ...approle(t), secret_id_file: t.brokerTokenFile }),
      'BROKER_ADAPTER_BACKEND_REJECTED',
    ],
    [
      'a missing token file',
      (t) => withAuth(t, { method: 'token', token_file: join(t.dir, 'none') }),
      'BROKER_ADAPTER_BAD_CONFIG',
    ],
    [
      'an empty token file',
      (t) => withAuth(t, { method: 'token', token_file: '/dev/null' }),
      'BROKER_ADAPTER_BAD_CONFIG',
    ],
  ];
  for (const [name, make, code] of refusals) {
    it(`refuses with ${code}: ${name}`, async () => {
      const t = await target();
      await rejectsWith(make(t).issue(), code);
    });
  }

  it('needs jwt_file when the broker has no JWT-SVID source', async () => {
    const t = await target();
    const adapter = createVaultAdapter({ clock: t.clock });
    assert.throws(() => adapter.parseConfig(providerConfig(t, { ...TOKEN_MODE, auth: jwt() })), {
      code: 'BROKER_ADAPTER_BAD_CONFIG',
    });
  });
});

describe('vault auth: keeping the broker’s token alive', () => {
  it('renews at half the TTL, then logs in again once renewal is cut short by the max TTL', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { issue } = withAuth(t, approle(t));
    const since = t.server!.requests.length;
    await issue();
    t.fakeClock!.advance(9 * 60_000);
    await issue();
    assert.equal(count(t, 'auth/token/renew-self', since), 0, 'renewed before half the ttl');
    t.fakeClock!.advance(2 * 60_000);
    await issue();
    assert.equal(count(t, 'auth/token/renew-self', since), 1);
    assert.equal(count(t, APPROLE_LOGIN, since), 1);
    // The role's token_max_ttl is 1h: renewals shrink, then the session logs in again.
    for (let i = 0; i < 8; i++) {
      t.fakeClock!.advance(11 * 60_000);
      await issue();
    }
    assert.ok(count(t, APPROLE_LOGIN, since) >= 2, 'never logged in again');
  });

  it('renews a renewable static token at half its TTL', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const file = join(t.dir, 'two-hour-token');
    const created = await t.api('POST', 'auth/token/create-orphan', {
      policies: [NAMES.brokerPolicy, NAMES.readPolicy],
      ttl: '2h',
    });
    await writeFile(file, (created!['auth'] as { client_token: string }).client_token);
    const { issue } = withAuth(t, { method: 'token', token_file: file });
    const since = t.server!.requests.length;
    await issue();
    t.fakeClock!.advance(59 * 60_000);
    await issue();
    assert.equal(count(t, 'auth/token/renew-self', since), 0, 'renewed before half the ttl');
    t.fakeClock!.advance(2 * 60_000);
    await issue();
    assert.equal(count(t, 'auth/token/renew-self', since), 1);
    assert.equal(count(t, 'auth/token/lookup-self', since), 1);
  });

  it('logs in again when renewal fails', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { issue } = withAuth(t, approle(t));
    const since = t.server!.requests.length;
    await issue();
    t.fakeClock!.advance(11 * 60_000);
    t.server!.failNext({ path: 'auth/token/renew-self', status: 500, errors: ['internal error'] });
    const issued = await issue();
    assert.equal(await t.accepts(issued.secret), true);
    assert.equal(count(t, APPROLE_LOGIN, since), 2);
  });

  it('logs in again and retries when vault stops honouring the cached token', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { issue } = withAuth(t, jwt());
    const since = t.server!.requests.length;
    await issue();
    const login = t
      .server!.world.state.tokens()
      .filter((x) => x.path === JWT_LOGIN)
      .at(-1)!;
    t.server!.world.state.revoke(login);
    const issued = await issue();
    assert.equal(await t.accepts(issued.secret), true);
    assert.equal(count(t, JWT_LOGIN, since), 2);
  });

  it('picks up a rotated static token file after vault refuses the old token', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const file = join(t.dir, 'rotating-token');
    const make = async () => {
      const created = await t.api('POST', 'auth/token/create-orphan', {
        policies: [NAMES.brokerPolicy, NAMES.readPolicy],
        ttl: '1h',
      });
      return (created!['auth'] as { client_token: string }).client_token;
    };
    const first = await make();
    await writeFile(file, first);
    const { issue } = withAuth(t, { method: 'token', token_file: file });
    await issue();
    await t.api('POST', 'auth/token/revoke-self', {}, first);
    await writeFile(file, await make());
    const issued = await issue();
    assert.equal(await t.accepts(issued.secret), true);
  });

  it('sends the namespace header on every request when configured', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const adapter = createVaultAdapter({ clock: t.clock });
    const config = adapter.parseConfig(providerConfig(t, { ...TOKEN_MODE, namespace: 'team-a/agents' }));
    const since = t.server!.requests.length;
    await adapter.issue(issueRequest(t, config));
    const sent = t.server!.requests.slice(since);
    assert.ok(sent.length >= 2);
    assert.ok(sent.every((r) => r.headers.namespace === 'team-a/agents'));
  });
});
