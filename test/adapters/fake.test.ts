import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../../broker/errors.js';
import { createFakeAdapter } from '../../adapters/fake/index.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const WORKLOAD = SpiffeId.parse('spiffe://example.org/agent');

function setup() {
  const adapter = createFakeAdapter();
  const config = adapter.parseConfig({ max_ttl: '10m' });
  const request = { config, taskId: 't1', workload: WORKLOAD, scopes: ['read'], ttlSeconds: 60, now: NOW };
  return { adapter, config, request };
}

describe('fake adapter', () => {
  it('fails the next issue with the injected error and leaves nothing in the backend', async () => {
    const { adapter, request } = setup();
    adapter.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'issue');
    await assert.rejects(adapter.issue(request), { code: 'BROKER_ADAPTER_BACKEND_UNAVAILABLE' });
    assert.equal(adapter.records().length, 0);
    await adapter.issue(request);
    assert.equal(adapter.records().length, 1);
  });

  it('fails the next revoke with the injected error and keeps the credential live', async () => {
    const { adapter, config, request } = setup();
    const issued = await adapter.issue(request);
    adapter.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_REJECTED'), 'revoke');
    await assert.rejects(adapter.revoke({ config, handle: issued.handle, now: NOW }), {
      code: 'BROKER_ADAPTER_BACKEND_REJECTED',
    });
    assert.equal(adapter.accepts(issued.secret, NOW), true);
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    assert.equal(adapter.accepts(issued.secret, NOW), false);
  });

  it('without an operation, fails whichever of issue or revoke comes next, once per injection', async () => {
    const { adapter, request } = setup();
    adapter.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'));
    adapter.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_REJECTED'));
    await assert.rejects(adapter.issue(request), { code: 'BROKER_ADAPTER_BACKEND_UNAVAILABLE' });
    await assert.rejects(adapter.issue(request), { code: 'BROKER_ADAPTER_BACKEND_REJECTED' });
    await adapter.issue(request);
  });

  it('shortens a ttl above max_ttl and records what it minted without the secret', async () => {
    const { adapter, request } = setup();
    const issued = await adapter.issue({ ...request, ttlSeconds: 3600 });
    assert.equal(issued.expiresAt.getTime(), NOW.getTime() + 600_000);
    const [record] = adapter.records();
    assert.equal(record?.workload, 'spiffe://example.org/agent');
    assert.deepEqual(record?.scopes, ['read']);
    assert.ok(!JSON.stringify(record).includes(issued.secret));
  });

  it('stops accepting a credential once it expires, and verifyRevoked then confirms', async () => {
    const { adapter, config, request } = setup();
    const issued = await adapter.issue(request);
    const after = new Date(issued.expiresAt.getTime());
    assert.equal(adapter.accepts(issued.secret, after), false);
    assert.equal(
      (await adapter.verifyRevoked({ config, handle: issued.handle, now: after })).confirmed,
      true,
    );
  });

  it('refuses to renew a revoked credential with a code', async () => {
    const { adapter, config, request } = setup();
    const issued = await adapter.issue(request);
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    await assert.rejects(adapter.renew!({ config, handle: issued.handle, now: NOW, ttlSeconds: 60 }), {
      code: 'BROKER_ADAPTER_BACKEND_REJECTED',
    });
  });

  it('keeps no state between instances', async () => {
    const a = setup();
    await a.adapter.issue(a.request);
    assert.equal(createFakeAdapter().records().length, 0);
  });
});
