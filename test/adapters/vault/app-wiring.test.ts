// The vault kind among the broker's default provider kinds: a `vault` provider in the configuration
// logs in with the broker's own JWT-SVID, minted by the app's development CA in dev-ca mode.
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { createApp } from '../../../broker/app.js';
import { parseConfig } from '../../../broker/config.js';
import { createPgliteExecutor } from '../../../broker/store/pglite-executor.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { repositoryRoot } from '../../support/repo-root.js';
import { sharedTarget, WORKLOAD } from './support/vault-fixture.js';
import { NAMES, type VaultTarget } from './support/vault-target.js';

const target = sharedTarget();
const ROLE = 'taskpass-app-broker';

function brokerConfig(t: VaultTarget, dataDir: string, auth: Record<string, unknown>) {
  return parseConfig({
    env: {
      TASKPASS_DATA_DIR: dataDir,
      TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
    },
    file: {
      providers: {
        'vault-kv': {
          kind: 'vault',
          address: t.address,
          ...(t.namespace !== undefined && { namespace: t.namespace }),
          auth,
          mode: 'token',
          policies: [NAMES.readPolicy],
          scopes: { 'tickets:read': [] },
        },
      },
    },
    cwd: dataDir,
  });
}

async function withDataDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'taskpass-vault-app-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('vault provider in the broker app', () => {
  it('logs in to vault with the JWT-SVID of the app’s development CA (dev-ca mode)', async () => {
    const t = await target();
    await withDataDir(async (dir) => {
      const auth = { method: 'jwt', mount: NAMES.jwtMount, role: ROLE, audience: NAMES.jwtAudience };
      const app = await createApp(brokerConfig(t, dir, auth), {
        clock: t.clock,
        logger: pino({ level: 'silent' }),
        executor: await createPgliteExecutor(),
        taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
        watchPolicy: false,
      });
      try {
        // Vault trusts the app's CA for the broker's own SPIFFE ID.
        const keys = [...app.devCa!.bundle().jwtAuthorities.values()].map((jwk) =>
          createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
            .export({ type: 'spki', format: 'pem' })
            .toString(),
        );
        await t.api('POST', `auth/${NAMES.jwtMount}/config`, {
          jwt_validation_pubkeys: keys,
          jwt_supported_algs: ['ES256'],
        });
        await t.api('POST', `auth/${NAMES.jwtMount}/role/${ROLE}`, {
          role_type: 'jwt',
          bound_audiences: [NAMES.jwtAudience],
          bound_subject: 'spiffe://taskpass.local/taskpass/broker',
          user_claim: 'sub',
          token_policies: [NAMES.brokerPolicy, NAMES.readPolicy],
          token_ttl: '10m',
        });
        const provider = app.providers.get('vault-kv');
        assert.equal(provider.kind, 'vault');
        assert.equal(provider.revocability, 'revocable');
        const request = {
          taskId: 'task-app-1',
          workload: WORKLOAD,
          scopes: ['tickets:read'],
          ttlSeconds: 120,
        };
        const issued = await provider.issue({ ...request, now: t.clock.now() });
        assert.equal(await t.accepts(issued.secret), true);
        const stored = JSON.parse(JSON.stringify(issued.handle)) as unknown;
        await provider.revoke({ handle: stored, now: t.clock.now() });
        assert.equal((await provider.verifyRevoked({ handle: stored, now: t.clock.now() })).confirmed, true);
      } finally {
        await app.stop();
      }
    });
  });

  it('without a JWT-SVID source (agent bundles but no agent JWT source) jwt auth needs jwt_file', async () => {
    const t = await target();
    await withDataDir(async (dir) => {
      const auth = { method: 'jwt', mount: NAMES.jwtMount, role: ROLE };
      await assert.rejects(
        createApp(brokerConfig(t, dir, auth), {
          clock: t.clock,
          logger: pino({ level: 'silent' }),
          executor: await createPgliteExecutor(),
          taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
          watchPolicy: false,
          bundles: new BundleSet([]),
        }),
        { code: 'BROKER_ADAPTER_BAD_CONFIG' },
      );
    });
  });
});
