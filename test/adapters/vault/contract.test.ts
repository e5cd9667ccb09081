// The shared credential-adapter contract, run on the vault adapter in each of its shapes, against the
// in-test Vault API server, or a real Vault/OpenBao when VAULT_ADDR and VAULT_TOKEN are set.
import { after } from 'node:test';
import { runCredentialAdapterContract } from '../../../adapters/contract-suite.js';
import {
  createVaultAdapter,
  type VaultHandle,
  type VaultProviderConfig,
} from '../../../adapters/vault/index.js';
import { NAMES, openVaultTarget, type VaultTarget } from './support/vault-target.js';

let opened: Promise<VaultTarget> | undefined;
const target = (): Promise<VaultTarget> => (opened ??= openVaultTarget());
after(async () => (opened === undefined ? undefined : (await opened).close()));

const SCOPES = { 'tickets:read': [NAMES.readPolicy], 'crm:write': [NAMES.writePolicy] };

/** A provider config over the target, with the broker's static token. */
function base(t: VaultTarget): Record<string, unknown> {
  return {
    address: t.address,
    ...(t.namespace !== undefined && { namespace: t.namespace }),
    timeout: '5s',
    auth: { method: 'token', token_file: t.brokerTokenFile },
    scopes: SCOPES,
  };
}

interface Shape {
  readonly name: string;
  readonly inTestOnly?: boolean;
  config(t: VaultTarget): Record<string, unknown>;
}

const PKI = { path: `${NAMES.pkiMount}/issue/${NAMES.pkiRole}`, method: 'POST' };

const SHAPES: readonly Shape[] = [
  { name: 'token', config: (t) => ({ ...base(t), mode: 'token', policies: [NAMES.readPolicy] }) },
  {
    name: 'token, renewable, limited uses',
    config: (t) => ({
      ...base(t),
      mode: 'token',
      renewable: true,
      explicit_max_ttl: '1h',
      num_uses: 5,
      no_default_policy: true,
    }),
  },
  { name: 'token, wrapped', config: (t) => ({ ...base(t), mode: 'token', wrap_ttl: '2m' }) },
  {
    // The pki role's 1h lease outlives the 300 s credential: the lease-holder token bounds it.
    name: 'dynamic (pki issue, POST)',
    config: (t) => ({
      ...base(t),
      mode: 'dynamic',
      ...PKI,
      params: { common_name: 'agent.taskpass.test' },
      policies: [NAMES.enginePolicy],
    }),
  },
  {
    name: 'dynamic, wrapped',
    config: (t) => ({
      ...base(t),
      mode: 'dynamic',
      ...PKI,
      params: { common_name: 'agent.taskpass.test', ttl: '{{ttl}}' },
      policies: [NAMES.enginePolicy],
      wrap_ttl: '1m',
    }),
  },
  {
    name: 'dynamic, renewable (database creds, GET)',
    inTestOnly: true,
    config: (t) => ({
      ...base(t),
      mode: 'dynamic',
      path: `${NAMES.dbMount}/creds/${NAMES.dbRole}`,
      policies: [NAMES.enginePolicy],
      renewable: true,
      explicit_max_ttl: '4h',
    }),
  },
];

const REAL = Boolean(process.env['VAULT_ADDR'] && process.env['VAULT_TOKEN']);

for (const shape of SHAPES) {
  if (shape.inTestOnly && REAL) continue;
  runCredentialAdapterContract<VaultProviderConfig, VaultHandle>({
    name: `vault ${shape.name}${REAL ? ' (real vault)' : ''}`,
    async setup() {
      const t = await target();
      const adapter = createVaultAdapter({ clock: t.clock, jwtSvid: (aud) => t.jwtSvid(aud) });
      return { adapter, config: adapter.parseConfig(shape.config(t)), now: t.clock.now() };
    },
    validConfig: {
      address: 'https://vault.internal:8200',
      namespace: 'team-a',
      auth: { method: 'jwt', role: 'taskpass-broker', audience: 'vault' },
      mode: 'dynamic',
      path: 'database/creds/readonly',
      policies: ['orders-db'],
      scopes: { 'orders:read': [] },
      renewable: true,
      explicit_max_ttl: '4h',
      wrap_ttl: '1m',
      timeout: '3s',
    },
    invalidConfigs: [
      { name: 'not an object', raw: 'vault', problems: 1 },
      { name: 'empty', raw: {}, problems: 3 },
      {
        name: 'every field wrong',
        raw: {
          address: 'ftp://vault',
          auth: { method: 'token' },
          mode: 'dynamic',
          policies: ['root'],
          scopes: { 'a b': ['x'] },
          renewable: 'yes',
          num_uses: -1,
          timeout: 'soon',
          extra: 1,
        },
        // extra, address, auth.token_file, path, policies, scopes.a b, renewable, num_uses twice
        // (not a count, and token mode only), timeout
        problems: 10,
      },
      {
        name: 'token mode with dynamic fields; renewable without a cap',
        raw: {
          address: 'http://127.0.0.1:8200',
          auth: { method: 'approle', role_id: 'r', role_id_file: '/x', secret_id_file: '/s' },
          mode: 'token',
          path: 'database/creds/x',
          method: 'POST',
          renewable: true,
        },
        // auth.role_id (both given), path, method, explicit_max_ttl
        problems: 4,
      },
      {
        name: 'dynamic mode with a sys path and params on GET; jwt without a role',
        raw: {
          address: 'http://127.0.0.1:8200',
          auth: { method: 'jwt', mount: '/bad/' },
          mode: 'dynamic',
          path: 'sys/leases/lookup',
          params: { a: 1 },
        },
        // auth.mount, auth.role, path, params
        problems: 4,
      },
    ],
  });
}
