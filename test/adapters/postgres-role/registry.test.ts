import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresRoleAdapter } from '../../../adapters/postgres-role/index.js';
import { adapterKind, createProviderRegistry } from '../../../adapters/registry.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { connect, openTarget, targetSkip, type Target } from './support.js';

// As the broker uses it: declared by name in configuration, handles stored as JSON and read back.
describe('postgres-role through the provider registry', { skip: targetSkip() }, () => {
  let target: Target;
  const adapter = createPostgresRoleAdapter();
  before(async () => {
    target = await openTarget();
  });
  after(async () => {
    await adapter.close();
    await target?.cleanup();
  });

  it('issues, renews and revokes a credential of a configured provider, from a stored handle', async () => {
    const registry = createProviderRegistry([adapterKind(adapter)], {
      'analytics-db': { kind: 'postgres-role', ...target.config() },
    });
    const provider = registry.get('analytics-db');
    assert.deepEqual(
      [provider.kind, provider.revocability, provider.canRenew],
      ['postgres-role', 'revocable', true],
    );
    const workload = SpiffeId.parse('spiffe://example.org/agent/registry');
    const now = new Date();
    const req = { taskId: 'task-registry', workload, scopes: ['tickets:read'], ttlSeconds: 300, now };
    const issued = await provider.issue(req);
    const stored: unknown = JSON.parse(JSON.stringify(issued.handle));
    const session = await connect(issued.secret);
    await provider.renew({ handle: stored, now, ttlSeconds: 600 });
    await provider.revoke({ handle: stored, now });
    await assert.rejects(session.query('SELECT 1'));
    assert.equal((await provider.verifyRevoked({ handle: stored, now })).confirmed, true);
  });

  it('lists every problem of a misconfigured provider under its name', () => {
    assert.throws(
      () => createProviderRegistry([adapterKind(adapter)], { 'analytics-db': { kind: 'postgres-role' } }),
      (err: { code?: string; problems?: readonly string[] }) => {
        assert.equal(err.code, 'BROKER_ADAPTER_BAD_CONFIG');
        assert.equal(err.problems?.length, 2);
        assert.ok(err.problems?.every((p) => p.startsWith('providers.analytics-db.')));
        return true;
      },
    );
  });
});
