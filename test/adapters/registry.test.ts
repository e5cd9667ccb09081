import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeAdapter } from '../../adapters/fake/index.js';
import { createJwtAdapter } from '../../adapters/jwt/index.js';
import { createMemoryTaskTokenKeyStore } from '../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../adapters/jwt/signing-keys.js';
import { adapterKind, createProviderRegistry } from '../../adapters/registry.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';

const NOW = new Date('2025-03-01T12:00:00Z');

async function kinds() {
  const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: NOW });
  const fake = createFakeAdapter();
  return {
    fake,
    kinds: [adapterKind(createJwtAdapter({ keyring, isRevoked: async () => false })), adapterKind(fake)],
  };
}

describe('provider registry', () => {
  it('maps configured names to bound providers', async () => {
    const { kinds: k } = await kinds();
    const registry = createProviderRegistry(k, {
      'crm-api': { kind: 'jwt', audience: 'crm-api', issuer: 'https://broker.test' },
      scratch: { kind: 'fake', max_ttl: '5m' },
    });
    assert.deepEqual(registry.names(), ['crm-api', 'scratch']);
    const crm = registry.get('crm-api');
    assert.equal(crm.kind, 'jwt');
    assert.equal(crm.revocability, 'revocable');
    assert.equal(crm.canRenew, false);
    assert.equal(registry.get('scratch').canRenew, true);
  });

  it('issues, persists the handle as JSON, and revokes from the stored form', async () => {
    const { kinds: k, fake } = await kinds();
    const registry = createProviderRegistry(k, { scratch: { kind: 'fake' } });
    const provider = registry.get('scratch');
    const workload = SpiffeId.parse('spiffe://example.org/agent');
    const issued = await provider.issue({ taskId: 't', workload, scopes: [], ttlSeconds: 60, now: NOW });
    const stored: unknown = JSON.parse(JSON.stringify(issued.handle));
    await provider.revoke({ handle: stored, now: NOW });
    assert.equal(fake.accepts(issued.secret, NOW), false);
    assert.equal((await provider.verifyRevoked({ handle: stored, now: NOW })).confirmed, true);
    await assert.rejects(provider.revoke({ handle: { id: 1 }, now: NOW }), {
      code: 'BROKER_ADAPTER_BAD_HANDLE',
    });
  });

  it('refuses to renew through a provider whose adapter cannot renew', async () => {
    const { kinds: k } = await kinds();
    const registry = createProviderRegistry(k, {
      crm: { kind: 'jwt', audience: 'crm', issuer: 'https://b.test' },
    });
    await assert.rejects(registry.get('crm').renew({ handle: {}, now: NOW, ttlSeconds: 60 }), {
      code: 'BROKER_ADAPTER_RENEW_UNSUPPORTED',
    });
  });

  it('answers an unknown provider name with a code', async () => {
    const { kinds: k } = await kinds();
    const registry = createProviderRegistry(k, {});
    assert.equal(registry.has('nope'), false);
    assert.throws(() => registry.get('nope'), { code: 'BROKER_ADAPTER_UNKNOWN_PROVIDER' });
  });

  it('lists every problem of every provider with its location', async () => {
    const { kinds: k } = await kinds();
    assert.throws(
      () =>
        createProviderRegistry(k, {
          'Bad Name': { kind: 'fake' },
          vault: { kind: 'vault' },
          crm: { kind: 'jwt', audience: '' },
          nokind: 7,
        }),
      (err: { code?: string; problems?: readonly string[] }) => {
        assert.equal(err.code, 'BROKER_ADAPTER_BAD_CONFIG');
        assert.deepEqual(err.problems, [
          'providers.Bad Name: name must be lowercase letters, digits and hyphens',
          'providers.vault.kind: must be one of fake, jwt',
          'providers.crm.audience: must be a non-empty string without surrounding spaces',
          'providers.crm.issuer: must be a non-empty string without surrounding spaces',
          'providers.nokind.kind: must be one of fake, jwt',
        ]);
        return true;
      },
    );
    assert.throws(() => createProviderRegistry(k, []), { code: 'BROKER_ADAPTER_BAD_CONFIG' });
  });
});
