// Dynamic mode against Vault's API: the secret is the engine's data, the lease is held by a
// per-issuance lease-holder token that bounds it to the credential's TTL, revocation kills both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VaultLeaseHandle } from '../../../adapters/vault/index.js';
import {
  adapterFor,
  DB_MODE,
  issueRequest,
  needsInTestServer,
  PKI_MODE,
  rejectsWith,
  sharedTarget,
  WORKLOAD,
} from './support/vault-fixture.js';
import { NAMES, type VaultTarget } from './support/vault-target.js';

const target = sharedTarget();

async function leaseAlive(t: VaultTarget, leaseId: string): Promise<boolean> {
  try {
    await t.api('PUT', 'sys/leases/lookup', { lease_id: leaseId });
    return true;
  } catch (err) {
    assert.match(String(err), /invalid lease/);
    return false;
  }
}

async function holderAlive(t: VaultTarget, accessor: string): Promise<boolean> {
  try {
    await t.api('POST', 'auth/token/lookup-accessor', { accessor });
    return true;
  } catch (err) {
    assert.match(String(err), /invalid accessor|bad token/);
    return false;
  }
}

describe('vault dynamic mode', () => {
  it('returns the engine’s data as JSON, with the lease and the holder in the handle', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    const data = JSON.parse(issued.secret) as Record<string, unknown>;
    assert.match(String(data['certificate']), /BEGIN CERTIFICATE/);
    assert.equal(typeof data['private_key'], 'string');
    const handle = issued.handle as VaultLeaseHandle;
    assert.ok(handle.leaseId!.startsWith(`${NAMES.pkiMount}/issue/${NAMES.pkiRole}/`));
    assert.equal(await leaseAlive(t, handle.leaseId!), true);
    const holder = await t.api('POST', 'auth/token/lookup-accessor', { accessor: handle.holderAccessor });
    const holderData = holder!['data'] as Record<string, unknown>;
    assert.deepEqual(holderData['meta'], {
      taskpass_task: 'task-vault-1',
      taskpass_workload: WORKLOAD.toString(),
      taskpass_role: 'lease-holder',
    });
    assert.ok(!(holderData['policies'] as string[]).includes('default'));
  });

  it('bounds a lease longer than the credential: expiry is the holder’s, and vault kills the lease with it', async (ctx) => {
    const t = await target();
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const request = issueRequest(t, config, { ttlSeconds: 120 });
    const issued = await adapter.issue(request);
    // The pki role's lease is 1h; the credential's bound is 120 s.
    assert.ok(issued.expiresAt.getTime() <= request.now.getTime() + 120_000);
    if (needsInTestServer(t, ctx)) return;
    const handle = issued.handle as VaultLeaseHandle;
    t.fakeClock!.advance(121_000);
    assert.equal(await leaseAlive(t, handle.leaseId!), false);
    const check = await adapter.verifyRevoked({ config, handle, now: t.clock.now() });
    assert.equal(check.confirmed, true, check.detail);
  });

  it('revokes the lease and its holder, and verifyRevoked confirms both', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    const handle = issued.handle as VaultLeaseHandle;
    await adapter.revoke({ config, handle, now: t.clock.now() });
    assert.equal(await leaseAlive(t, handle.leaseId!), false);
    assert.equal(await holderAlive(t, handle.holderAccessor), false);
    const check = await adapter.verifyRevoked({ config, handle, now: t.clock.now() });
    assert.equal(check.confirmed, true, check.detail);
  });

  it('does not confirm while the lease is revoked but its holder is still alive', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    const handle = issued.handle as VaultLeaseHandle;
    // Only the lease revoked: the holder is still alive, so not yet confirmed.
    await t.api('PUT', 'sys/leases/revoke', { lease_id: handle.leaseId });
    const check = await adapter.verifyRevoked({ config, handle, now: t.clock.now() });
    assert.equal(check.confirmed, false, check.detail);
  });

  it('sends params on POST with {{ttl}} replaced by the credential ttl', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const params = { common_name: 'agent.taskpass.test', ttl: '{{ttl}}', alt_names: ['{{ttl}}x'] };
    const { adapter, config } = adapterFor(t, { ...PKI_MODE, params });
    const issued = await adapter.issue(issueRequest(t, config, { ttlSeconds: 240 }));
    const sent = t
      .server!.requests.filter((r) => r.path === `${NAMES.pkiMount}/issue/${NAMES.pkiRole}`)
      .at(-1)!;
    assert.deepEqual(sent.body, { common_name: 'agent.taskpass.test', ttl: '240s', alt_names: ['{{ttl}}x'] });
    assert.equal(sent.headers.hasToken, true);
    assert.ok(issued.expiresAt.getTime() <= t.clock.now().getTime() + 240_000);
  });

  it('renews a renewable lease and its holder within the new ttl (database creds)', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, { ...DB_MODE, renewable: true, explicit_max_ttl: '2h' });
    const issued = await adapter.issue(issueRequest(t, config));
    assert.equal(issued.renewable, true);
    assert.deepEqual(Object.keys(JSON.parse(issued.secret) as object).sort(), ['password', 'username']);
    t.fakeClock!.advance(200_000);
    const now = t.clock.now();
    const renewed = await adapter.renew!({ config, handle: issued.handle, now, ttlSeconds: 300 });
    assert.ok(renewed.expiresAt.getTime() <= now.getTime() + 300_000);
    t.fakeClock!.advance(250_000);
    // Past the first expiry, alive thanks to the renewal.
    assert.equal(await leaseAlive(t, (renewed.handle as VaultLeaseHandle).leaseId!), true);
  });

  it('refuses to renew a lease the engine made non-renewable (pki)', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...PKI_MODE, renewable: true, explicit_max_ttl: '2h' });
    const issued = await adapter.issue(issueRequest(t, config));
    assert.equal(issued.renewable, false);
    const renew = { config, handle: issued.handle, now: t.clock.now(), ttlSeconds: 300 };
    await rejectsWith(adapter.renew!(renew), 'BROKER_ADAPTER_RENEW_UNSUPPORTED');
  });

  it('a read the scopes’ policies do not allow is denied, and the holder is revoked', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...PKI_MODE, policies: [NAMES.readPolicy] });
    const known = t.server?.world.state.tokens().length ?? 0;
    await rejectsWith(adapter.issue(issueRequest(t, config)), 'BROKER_ADAPTER_BACKEND_DENIED');
    if (t.server === undefined) return;
    const created = t.server.world.state.tokens().slice(known);
    const holders = created.filter((x) => x.meta['taskpass_role'] === 'lease-holder');
    assert.equal(holders.length, 1);
    assert.ok(
      holders.every((h) => !t.server!.world.state.alive(h)),
      'a lease holder is still alive',
    );
  });
});

describe('vault dynamic mode with response wrapping', () => {
  it('hands out a wrapping token; unwrapping gives the lease, which revocation of the holder kills', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, { ...PKI_MODE, wrap_ttl: '1m' });
    const issued = await adapter.issue(issueRequest(t, config));
    const handle = issued.handle as VaultLeaseHandle;
    assert.equal(handle.leaseId, null);
    assert.equal(issued.renewable, false);
    const unwrapped = await t.api('POST', 'sys/wrapping/unwrap', {}, issued.secret);
    const leaseId = unwrapped!['lease_id'] as string;
    assert.match(String((unwrapped!['data'] as Record<string, unknown>)['certificate']), /CERTIFICATE/);
    assert.equal(await leaseAlive(t, leaseId), true);
    await adapter.revoke({ config, handle, now: t.clock.now() });
    const check = await adapter.verifyRevoked({ config, handle, now: t.clock.now() });
    assert.equal(check.confirmed, true, check.detail);
    // Vault marks the holder's leases expired and revokes them in its background queue.
    let alive = await leaseAlive(t, leaseId);
    for (let i = 0; alive && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      alive = await leaseAlive(t, leaseId);
    }
    assert.equal(alive, false);
  });
});
