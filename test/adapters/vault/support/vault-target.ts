// Where the vault suites run: the in-test Vault API server (default), or a real Vault or OpenBao when
// VAULT_ADDR and VAULT_TOKEN are set (a root or admin token: the suites create their own mounts,
// policies and auth methods, all named taskpass-test-*, through the API). The suites are the same;
// only cases that need to move Vault's clock or inject faults skip against a real server.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCa, type DevCa } from '../../../../spiffe/ca/index.js';
import { systemClock, type Clock } from '../../../../spiffe/clock.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../../spiffe/trust-domain.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { startVaultApiServer, type VaultApiServer } from './vault-api-server.js';

/** Names of everything the suites create in Vault. */
export const NAMES = Object.freeze({
  pkiMount: 'taskpass-test-pki',
  pkiRole: 'agents',
  dbMount: 'taskpass-test-db',
  dbRole: 'readonly',
  approleMount: 'taskpass-test-approle',
  jwtMount: 'taskpass-test-jwt',
  brokerRole: 'taskpass-broker',
  jwtAudience: 'vault-taskpass-test',
  brokerPolicy: 'taskpass-test-broker',
  readPolicy: 'taskpass-test-tickets-read',
  writePolicy: 'taskpass-test-crm-write',
  enginePolicy: 'taskpass-test-engines',
});

/** The broker's own SPIFFE ID in the suites (its JWT-SVID logs in to Vault's JWT auth). */
export const BROKER_ID = SpiffeId.parse('spiffe://vault.test/taskpass/broker');

export interface VaultTarget {
  /** True against a real Vault or OpenBao. */
  readonly real: boolean;
  readonly address: string;
  readonly namespace: string | undefined;
  readonly rootToken: string;
  /** The in-test server's clock (moves only when told), or the system clock against a real server. */
  readonly clock: Clock;
  readonly fakeClock: FakeClock | undefined;
  readonly server: VaultApiServer | undefined;
  /** A development CA whose JWT keys Vault's JWT auth trusts (the broker's JWT-SVID source). */
  readonly ca: DevCa;
  /** The broker's token file (a token with the broker policy and the credential policies). */
  readonly brokerTokenFile: string;
  readonly roleId: string;
  readonly secretIdFile: string;
  readonly dir: string;
  /** Calls Vault's API with the root token (or `token`); throws on a non-2xx answer. */
  api(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<Record<string, unknown> | undefined>;
  /** A workload's view: whether Vault accepts `token` (lookup-self with it). */
  accepts(token: string): Promise<boolean>;
  /** The broker's JWT-SVID for `audience`, from the development CA. */
  jwtSvid(audience: string): Promise<string>;
  close(): Promise<void>;
}

async function call(
  address: string,
  namespace: string | undefined,
  method: string,
  path: string,
  body: unknown,
  token: string,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const headers: Record<string, string> = { 'X-Vault-Token': token, 'X-Vault-Request': 'true' };
  if (namespace !== undefined) headers['X-Vault-Namespace'] = namespace;
  const res = await fetch(`${address}/v1/${path}`, {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

const policy = (paths: Record<string, string[]>) =>
  JSON.stringify({
    path: Object.fromEntries(Object.entries(paths).map(([p, c]) => [p, { capabilities: c }])),
  });

/** Creates (idempotently) the mounts, policies, roles and credentials the suites use. */
async function provision(t: Omit<VaultTarget, 'roleId' | 'secretIdFile' | 'brokerTokenFile'>) {
  const tolerate = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (!String(err).includes('already in use')) throw err;
    }
  };
  const n = NAMES;
  await tolerate(
    t.api('POST', `sys/mounts/${n.pkiMount}`, { type: 'pki', config: { max_lease_ttl: '87600h' } }),
  );
  await t.api('POST', `${n.pkiMount}/root/generate/internal`, {
    common_name: 'taskpass-test',
    ttl: '87600h',
  });
  await t.api('POST', `${n.pkiMount}/roles/${n.pkiRole}`, {
    allow_any_name: true,
    generate_lease: true,
    ttl: '1h',
    max_ttl: '2h',
    key_type: 'ec',
    key_bits: 256,
  });
  if (!t.real) {
    await tolerate(t.api('POST', `sys/mounts/${n.dbMount}`, { type: 'database' }));
    await t.api('POST', `${n.dbMount}/roles/${n.dbRole}`, {
      db_name: 'orders',
      default_ttl: '1h',
      max_ttl: '24h',
    });
  }
  const broker = {
    'auth/token/create-orphan': ['update'],
    'auth/token/lookup-accessor': ['update'],
    'auth/token/revoke-accessor': ['update'],
    'auth/token/renew-accessor': ['update'],
    'sys/leases/lookup': ['update'],
    'sys/leases/renew': ['update'],
    'sys/leases/revoke': ['update'],
  };
  await t.api('PUT', `sys/policies/acl/${n.brokerPolicy}`, { policy: policy(broker) });
  await t.api('PUT', `sys/policies/acl/${n.readPolicy}`, {
    policy: policy({ 'secret/data/tickets/*': ['read'] }),
  });
  await t.api('PUT', `sys/policies/acl/${n.writePolicy}`, {
    policy: policy({ 'secret/data/crm/*': ['update'] }),
  });
  const engines = {
    [`${n.pkiMount}/issue/${n.pkiRole}`]: ['update'],
    [`${n.dbMount}/creds/${n.dbRole}`]: ['read'],
  };
  await t.api('PUT', `sys/policies/acl/${n.enginePolicy}`, { policy: policy(engines) });
  const policies = [n.brokerPolicy, n.readPolicy, n.writePolicy, n.enginePolicy];
  await tolerate(t.api('POST', `sys/auth/${n.approleMount}`, { type: 'approle' }));
  await t.api('POST', `auth/${n.approleMount}/role/${n.brokerRole}`, {
    token_policies: policies,
    token_ttl: '20m',
    token_max_ttl: '1h',
  });
  const roleId = (await t.api('GET', `auth/${n.approleMount}/role/${n.brokerRole}/role-id`))!['data'] as {
    role_id: string;
  };
  const secretId = (await t.api('POST', `auth/${n.approleMount}/role/${n.brokerRole}/secret-id`, {}))![
    'data'
  ] as {
    secret_id: string;
  };
  await tolerate(t.api('POST', `sys/auth/${n.jwtMount}`, { type: 'jwt' }));
  const keys = [...t.ca.bundle().jwtAuthorities.values()].map((jwk) =>
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString(),
  );
  await t.api('POST', `auth/${n.jwtMount}/config`, {
    jwt_validation_pubkeys: keys,
    jwt_supported_algs: ['ES256'],
  });
  await t.api('POST', `auth/${n.jwtMount}/role/${n.brokerRole}`, {
    role_type: 'jwt',
    bound_audiences: [n.jwtAudience],
    bound_subject: BROKER_ID.toString(),
    user_claim: 'sub',
    token_policies: policies,
    token_ttl: '20m',
    token_max_ttl: '1h',
  });
  const token = (await t.api('POST', 'auth/token/create-orphan', { policies, ttl: '24h', renewable: true }))![
    'auth'
  ] as { client_token: string };
  const brokerTokenFile = join(t.dir, 'broker-token');
  const secretIdFile = join(t.dir, 'secret-id');
  await writeFile(brokerTokenFile, `${token.client_token}\n`, { mode: 0o600 });
  await writeFile(secretIdFile, secretId.secret_id, { mode: 0o600 });
  return { roleId: roleId.role_id, secretIdFile, brokerTokenFile };
}

/**
 * Opens the target: a real Vault/OpenBao from `VAULT_ADDR`, `VAULT_TOKEN` (and `VAULT_NAMESPACE`),
 * else a fresh in-test server on a fake clock; then provisions it.
 */
export async function openVaultTarget(): Promise<VaultTarget> {
  const envAddr = process.env['VAULT_ADDR'];
  const envToken = process.env['VAULT_TOKEN'];
  const real = envAddr !== undefined && envAddr !== '' && envToken !== undefined && envToken !== '';
  const fakeClock = real ? undefined : new FakeClock(new Date('2025-06-01T12:00:00Z'));
  const clock: Clock = fakeClock ?? systemClock;
  const server = real ? undefined : await startVaultApiServer({ clock });
  const address = real ? envAddr.replace(/\/+$/, '') : server!.address;
  const rootToken = real ? envToken : server!.rootToken;
  const namespace = real ? process.env['VAULT_NAMESPACE'] || undefined : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'taskpass-vault-'));
  const ca = await createDevCa({ trustDomain: TrustDomain.parse('vault.test'), clock });
  const base = {
    real,
    address,
    namespace,
    rootToken,
    clock,
    fakeClock,
    server,
    ca,
    dir,
    async api(method: string, path: string, body?: unknown, token = rootToken) {
      const res = await call(address, namespace, method, path, body, token);
      if (res.status >= 300)
        throw new Error(`vault ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async accepts(token: string) {
      const res = await call(address, namespace, 'GET', 'auth/token/lookup-self', undefined, token);
      return res.status === 200;
    },
    async jwtSvid(audience: string) {
      return (
        await ca.mintJwtSvid({ id: BROKER_ID, now: clock.now(), audience: [audience], ttlSeconds: 300 })
      ).token;
    },
    async close() {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    return { ...base, ...(await provision(base)) };
  } catch (err) {
    await base.close();
    throw err;
  }
}
