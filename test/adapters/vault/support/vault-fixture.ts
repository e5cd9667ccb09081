// Shared pieces of the vault suites: one target per test file, provider configs over it, requests.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { IssueContext } from '../../../../adapters/credential-adapter.js';
import { createVaultAdapter, type VaultProviderConfig } from '../../../../adapters/vault/index.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { NAMES, openVaultTarget, type VaultTarget } from './vault-target.js';

export const WORKLOAD = SpiffeId.parse('spiffe://vault.test/agents/summariser');
export const SCOPES = { 'tickets:read': [NAMES.readPolicy], 'crm:write': [NAMES.writePolicy] };
export const PKI_PATH = `${NAMES.pkiMount}/issue/${NAMES.pkiRole}`;
export const DB_PATH = `${NAMES.dbMount}/creds/${NAMES.dbRole}`;

/** One target for the whole test file, opened on first use and closed after the file. */
export function sharedTarget(): () => Promise<VaultTarget> {
  let opened: Promise<VaultTarget> | undefined;
  after(async () => {
    if (opened !== undefined) await (await opened).close();
  });
  return () => (opened ??= openVaultTarget());
}

/** A provider config over `t` with the broker's static token, plus `extra`. */
export function providerConfig(t: VaultTarget, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    address: t.address,
    ...(t.namespace !== undefined && { namespace: t.namespace }),
    timeout: '5s',
    auth: { method: 'token', token_file: t.brokerTokenFile },
    scopes: SCOPES,
    ...extra,
  };
}

export const TOKEN_MODE = { mode: 'token', policies: [NAMES.readPolicy] };
export const PKI_MODE = {
  mode: 'dynamic',
  path: PKI_PATH,
  method: 'POST',
  params: { common_name: 'agent.taskpass.test' },
  policies: [NAMES.enginePolicy],
};
export const DB_MODE = { mode: 'dynamic', path: DB_PATH, policies: [NAMES.enginePolicy] };

/** An adapter and a parsed config over `t`. */
export function adapterFor(t: VaultTarget, extra: Record<string, unknown>) {
  const adapter = createVaultAdapter({ clock: t.clock, jwtSvid: (aud) => t.jwtSvid(aud) });
  const config = adapter.parseConfig(providerConfig(t, extra));
  return { adapter, config };
}

/** An issue request for the test workload. */
export function issueRequest(
  t: VaultTarget,
  config: VaultProviderConfig,
  change: Partial<IssueContext<VaultProviderConfig>> = {},
): IssueContext<VaultProviderConfig> {
  return {
    config,
    taskId: 'task-vault-1',
    workload: WORKLOAD,
    scopes: ['tickets:read'],
    ttlSeconds: 300,
    now: t.clock.now(),
    ...change,
  };
}

/** Asserts that `promise` rejects with a BrokerError of `code`; returns the error. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string }> {
  let caught: unknown;
  await assert.rejects(promise, (err: { code?: string }) => {
    caught = err;
    assert.equal(err.code, code, String(err));
    return true;
  });
  return caught as Error & { code: string };
}

/** Skips a case that needs the in-test server (its clock or fault injection) against a real Vault. */
export function needsInTestServer(t: VaultTarget, ctx: { skip(message: string): void }): boolean {
  if (!t.real) return false;
  ctx.skip('needs the in-test vault server (fake clock or fault injection)');
  return true;
}
