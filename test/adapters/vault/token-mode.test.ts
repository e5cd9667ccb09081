// Token mode against Vault's API: what the workload receives works there, carries the policies of its
// scopes and metadata naming the task, dies with its revocation, its use count or its TTL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VaultTokenHandle } from '../../../adapters/vault/index.js';
import {
  adapterFor,
  issueRequest,
  needsInTestServer,
  rejectsWith,
  sharedTarget,
  TOKEN_MODE,
  WORKLOAD,
} from './support/vault-fixture.js';
import { NAMES } from './support/vault-target.js';

const target = sharedTarget();

async function lookup(accessor: string) {
  const t = await target();
  const answer = await t.api('POST', 'auth/token/lookup-accessor', { accessor });
  return answer!['data'] as Record<string, unknown>;
}

describe('vault token mode', () => {
  it('mints an orphan token with the scopes policies, the ttl and metadata naming the task', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, TOKEN_MODE);
    const issued = await adapter.issue(issueRequest(t, config, { scopes: ['tickets:read', 'crm:write'] }));
    const handle = issued.handle as VaultTokenHandle;
    assert.equal(await t.accepts(issued.secret), true);
    const data = await lookup(handle.accessor);
    assert.deepEqual(
      (data['policies'] as string[]).filter((p) => p !== 'default').sort(),
      [NAMES.readPolicy, NAMES.writePolicy].sort(),
    );
    assert.equal(data['orphan'], true);
    assert.deepEqual(data['meta'], {
      taskpass_task: 'task-vault-1',
      taskpass_workload: WORKLOAD.toString(),
      taskpass_role: 'workload-token',
    });
    assert.ok((data['ttl'] as number) <= 300 && (data['ttl'] as number) > 250);
    assert.equal(data['renewable'], false);
    assert.equal(issued.renewable, false);
  });

  it('revokes by accessor: the workload token stops working and verifyRevoked confirms it', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, TOKEN_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    await adapter.revoke({ config, handle: issued.handle, now: t.clock.now() });
    assert.equal(await t.accepts(issued.secret), false);
    const check = await adapter.verifyRevoked({ config, handle: issued.handle, now: t.clock.now() });
    assert.equal(check.confirmed, true, check.detail);
  });

  const badScopes: [string, string[]][] = [
    ['a scope outside the map', ['tickets:delete']],
    ['one known and one unknown', ['tickets:read', 'admin']],
  ];
  for (const [name, scopes] of badScopes) {
    it(`refuses scopes the provider cannot express, creating nothing: ${name}`, async () => {
      const t = await target();
      const { adapter, config } = adapterFor(t, TOKEN_MODE);
      const before = t.server?.requests.length;
      await rejectsWith(adapter.issue(issueRequest(t, config, { scopes })), 'BROKER_ADAPTER_BAD_REQUEST');
      if (t.server !== undefined) assert.equal(t.server.requests.length, before, 'vault was called');
    });
  }

  it('refuses a request that would give the token no policy (vault would copy the broker’s)', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { mode: 'token', scopes: { 'tickets:read': [] } });
    await rejectsWith(adapter.issue(issueRequest(t, config)), 'BROKER_ADAPTER_BAD_REQUEST');
  });

  it('honours num_uses: the token dies after its last use and verifyRevoked confirms it', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, num_uses: 2 });
    const issued = await adapter.issue(issueRequest(t, config));
    const check = () => adapter.verifyRevoked({ config, handle: issued.handle, now: t.clock.now() });
    assert.equal((await check()).confirmed, false);
    assert.equal(await t.accepts(issued.secret), true);
    assert.equal(await t.accepts(issued.secret), true);
    assert.equal(await t.accepts(issued.secret), false);
    assert.equal((await check()).confirmed, true);
  });

  it('a token issued not renewable cannot be extended, by the broker or by the workload', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, TOKEN_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    const renew = { config, handle: issued.handle, now: t.clock.now(), ttlSeconds: 300 };
    await rejectsWith(adapter.renew!(renew), 'BROKER_ADAPTER_RENEW_UNSUPPORTED');
    await assert.rejects(t.api('POST', 'auth/token/renew-self', { increment: '1h' }, issued.secret));
  });

  it('renews a renewable token by accessor, never past the requested ttl', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, renewable: true, explicit_max_ttl: '2h' });
    const issued = await adapter.issue(issueRequest(t, config));
    assert.equal(issued.renewable, true);
    const now = t.clock.now();
    const renewed = await adapter.renew!({ config, handle: issued.handle, now, ttlSeconds: 600 });
    assert.ok(renewed.expiresAt.getTime() <= now.getTime() + 600_000);
    const ttl = (await lookup((issued.handle as VaultTokenHandle).accessor))['ttl'] as number;
    assert.ok(ttl > 300 && ttl <= 600, String(ttl));
  });

  it('expires at its ttl on vault’s clock, after which verifyRevoked confirms it', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, TOKEN_MODE);
    const issued = await adapter.issue(issueRequest(t, config, { ttlSeconds: 60 }));
    t.fakeClock!.advance(59_000);
    assert.equal(await t.accepts(issued.secret), true);
    t.fakeClock!.advance(2_000);
    assert.equal(await t.accepts(issued.secret), false);
    const check = await adapter.verifyRevoked({ config, handle: issued.handle, now: t.clock.now() });
    assert.equal(check.confirmed, true, check.detail);
  });
});

describe('vault token mode with response wrapping', () => {
  it('hands out a single-use wrapping token; unwrapping gives the token the handle names', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, wrap_ttl: '1m' });
    const issued = await adapter.issue(issueRequest(t, config));
    const handle = issued.handle as VaultTokenHandle;
    const unwrapped = await t.api('POST', 'sys/wrapping/unwrap', {}, issued.secret);
    const auth = unwrapped!['auth'] as { client_token: string; accessor: string };
    assert.equal(auth.accessor, handle.accessor);
    assert.equal(await t.accepts(auth.client_token), true);
    await assert.rejects(t.api('POST', 'sys/wrapping/unwrap', {}, issued.secret), 'a second unwrap');
    await adapter.revoke({ config, handle, now: t.clock.now() });
    assert.equal(await t.accepts(auth.client_token), false);
  });

  it('revoking before the workload unwraps leaves it a dead token', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, wrap_ttl: '1m' });
    const issued = await adapter.issue(issueRequest(t, config));
    await adapter.revoke({ config, handle: issued.handle, now: t.clock.now() });
    const unwrapped = await t.api('POST', 'sys/wrapping/unwrap', {}, issued.secret);
    const auth = unwrapped!['auth'] as { client_token: string };
    assert.equal(await t.accepts(auth.client_token), false);
  });

  it('never wraps for longer than the credential lives', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, wrap_ttl: '1h' });
    await adapter.issue(issueRequest(t, config, { ttlSeconds: 120 }));
    const create = t.server!.requests.filter((r) => r.path === 'auth/token/create-orphan').at(-1)!;
    assert.equal(create.headers.wrapTtl, '120s');
  });
});
