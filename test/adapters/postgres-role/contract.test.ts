import { after, before, describe } from 'node:test';
import { runCredentialAdapterContract } from '../../../adapters/contract-suite.js';
import {
  createPostgresRoleAdapter,
  type PostgresRoleConfig,
  type PostgresRoleHandle,
} from '../../../adapters/postgres-role/index.js';
import { openTarget, targetSkip, type Target } from './support.js';

// The shared contract, on the real server: issue, revoke, verifyRevoked and renew all reach it.
describe('postgres-role on a real postgres server', { skip: targetSkip() }, () => {
  let target: Target;
  before(async () => {
    target = await openTarget();
  });
  after(() => target?.cleanup());

  runCredentialAdapterContract<PostgresRoleConfig, PostgresRoleHandle>({
    name: 'postgres-role',
    async setup() {
      const adapter = createPostgresRoleAdapter();
      const config = adapter.parseConfig(target.config());
      // The server checks VALID UNTIL against its own clock: credentials are issued as of now.
      return { adapter, config, now: new Date(), close: () => adapter.close() };
    },
    validConfig: {
      url: 'postgres://taskpass_admin@db.internal/analytics',
      grants: { 'tickets:read': ['analytics_reader'] },
      connection: { host: 'analytics.db.example', port: 5432, sslmode: 'verify-full' },
      max_ttl: '2h',
    },
    // The connection string names the role, as the handle does; the password is what must stay out.
    secretMaterial: (secret) => decodeURIComponent(new URL(secret).password),
    invalidConfigs: [
      { name: 'not an object', raw: 'postgres', problems: 1 },
      { name: 'no url and no grants', raw: {}, problems: 2 },
      {
        name: 'bad url, prefix, pool and an unknown field',
        raw: { url: 'https://x', grants: { a: ['r'] }, role_prefix: 'pg_', pool_size: 1000, x: 1 },
        problems: 4,
      },
    ],
  });
});
