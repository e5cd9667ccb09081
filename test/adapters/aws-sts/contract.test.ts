import { after, before, describe } from 'node:test';
import { runCredentialAdapterContract, type ContractHarness } from '../../../adapters/contract-suite.js';
import {
  createAwsStsAdapters,
  createKeyringWebIdentitySigner,
  type AwsStsHandle,
} from '../../../adapters/aws-sts/index.js';
import type { AwsStsConfig } from '../../../adapters/aws-sts/config.js';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { requireMoto, startMoto, type MotoServer } from './support/moto.js';
import { ACCOUNT, BROKER_KEYS, NOW, baseConfig, createRole, fakeClock } from './support/fixture.js';

const { skip } = requireMoto('aws-sts contract');
let moto: MotoServer;

const invalidConfigs = [
  { name: 'not an object', raw: 'aws', problems: 1 },
  { name: 'empty', raw: {}, problems: 3 },
  {
    name: 'every field wrong',
    raw: {
      role_arn: 'arn:aws:iam::1:user/x',
      region: 'Mars',
      endpoint: 'ftp://x',
      auth: { mode: 'magic' },
      scopes: { 'a b': { actions: [], resources: ['x'] } },
      short_ttl: 'sometimes',
      revocation: 'maybe',
      max_ttl: '1m',
      timeout: '2h',
      max_attempts: 0,
      extra: 1,
    },
    problems: 13,
  },
  {
    name: 'round_up without a revocable deny',
    raw: { ...baseConfig('http://127.0.0.1:1'), short_ttl: 'round_up', revocation: 'none' },
    problems: 1,
  },
  {
    name: 'a scope that could chain into another role',
    raw: { ...baseConfig('http://127.0.0.1:1'), scopes: { all: { actions: ['sts:*'], resources: ['*'] } } },
    problems: 1,
  },
  {
    name: 'web identity with deny-policy and no manager role',
    raw: { ...baseConfig('http://127.0.0.1:1'), auth: { mode: 'web-identity' } },
    problems: 1,
  },
];

function harness(
  name: string,
  raw: (endpoint: string) => Record<string, unknown>,
  variant: 'revocable' | 'expiresOnly',
  webIdentity: boolean,
): ContractHarness<AwsStsConfig, AwsStsHandle> {
  return {
    name,
    ttlSeconds: 900,
    async setup() {
      await moto.reset();
      await createRole(moto.endpoint);
      const clock = fakeClock();
      const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: NOW });
      const deps = webIdentity
        ? {
            clock,
            webIdentityToken: createKeyringWebIdentitySigner({ keyring, issuer: 'https://broker.test' }),
          }
        : { clock, credentials: BROKER_KEYS };
      const adapter = createAwsStsAdapters(deps)[variant];
      return { adapter, config: adapter.parseConfig(raw(moto.endpoint)), now: NOW };
    },
    get validConfig() {
      return raw('http://127.0.0.1:4566');
    },
    invalidConfigs,
  };
}

describe('aws-sts adapter against moto', { skip }, () => {
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });

  runCredentialAdapterContract(harness('aws-sts, keys, deny-policy', baseConfig, 'revocable', false));
  runCredentialAdapterContract(
    harness(
      'aws-sts, keys, revocation none',
      (e) => ({ ...baseConfig(e), revocation: 'none' }),
      'expiresOnly',
      false,
    ),
  );
  runCredentialAdapterContract(
    harness(
      'aws-sts, web identity, deny-policy',
      (e) => ({
        ...baseConfig(e),
        auth: { mode: 'web-identity', manager_role_arn: `arn:aws:iam::${ACCOUNT}:role/taskpass-manager` },
      }),
      'revocable',
      true,
    ),
  );
});
