import { createFakeAdapter, type FakeConfig, type FakeHandle } from '../../adapters/fake/index.js';
import { runCredentialAdapterContract } from '../../adapters/contract-suite.js';
import { createJwtAdapter, type JwtHandle } from '../../adapters/jwt/index.js';
import type { JwtProviderConfig } from '../../adapters/jwt/config.js';
import { createMemoryTaskTokenKeyStore } from '../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../adapters/jwt/signing-keys.js';

const NOW = new Date('2025-03-01T12:00:00.250Z');

runCredentialAdapterContract<FakeConfig, FakeHandle>({
  name: 'fake',
  async setup() {
    const adapter = createFakeAdapter();
    return { adapter, config: adapter.parseConfig({ max_ttl: '1h' }), now: NOW };
  },
  validConfig: { max_ttl: '30m', renewable: false },
  invalidConfigs: [
    { name: 'not an object', raw: 'fake', problems: 1 },
    {
      name: 'bad ttl and renewable and an unknown field',
      raw: { max_ttl: 'soon', renewable: 'yes', x: 1 },
      problems: 3,
    },
  ],
});

runCredentialAdapterContract<FakeConfig, FakeHandle>({
  name: 'fake, not renewable',
  async setup() {
    const adapter = createFakeAdapter();
    return { adapter, config: adapter.parseConfig({ renewable: false }), now: NOW };
  },
  validConfig: {},
  invalidConfigs: [],
});

runCredentialAdapterContract<JwtProviderConfig, JwtHandle>({
  name: 'jwt',
  async setup() {
    const revoked = new Set<string>();
    const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: NOW });
    const adapter = createJwtAdapter({ keyring, isRevoked: async (jti) => revoked.has(jti) });
    const config = adapter.parseConfig({ audience: 'crm-api', issuer: 'https://broker.test' });
    return {
      adapter,
      config,
      now: NOW,
      // The broker's part of a jwt revocation: record the jti in its state.
      recordRevocation: async (handle) => void revoked.add(handle.jti),
    };
  },
  validConfig: { audience: 'crm-api', issuer: 'https://broker.test', algorithm: 'PS256', max_ttl: '15m' },
  invalidConfigs: [
    { name: 'empty', raw: {}, problems: 2 },
    {
      name: 'every field wrong',
      raw: { audience: '', issuer: 'https://x/?q=1', algorithm: 'HS256', max_ttl: '2d', extra: true },
      problems: 5,
    },
    { name: 'issuer not a url', raw: { audience: 'a', issuer: 'broker' }, problems: 1 },
  ],
});
