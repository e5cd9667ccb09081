import { createJwtAdapter } from '../../../adapters/jwt/index.js';
import { parseJwtProviderConfig } from '../../../adapters/jwt/config.js';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring, type TaskTokenKeyringOptions } from '../../../adapters/jwt/signing-keys.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

export const T0 = new Date('2025-03-01T12:00:00Z');
export const WORKLOAD = SpiffeId.parse('spiffe://example.org/ns/prod/agent/summariser');
export const ISSUER = 'https://broker.example.org';

/** A keyring over an in-memory store, a jwt adapter on it, and a broker-side revocation set. */
export async function jwtSetup(
  opts: Partial<TaskTokenKeyringOptions> = {},
  raw: Record<string, unknown> = {},
) {
  const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: T0, ...opts });
  const revoked = new Set<string>();
  const adapter = createJwtAdapter({ keyring, isRevoked: async (jti) => revoked.has(jti) });
  const config = parseJwtProviderConfig({ audience: 'crm-api', issuer: ISSUER, ...raw });
  const issue = (
    now: Date = T0,
    ttlSeconds = 300,
    scopes: readonly string[] = ['tickets:read', 'crm:write'],
  ) => adapter.issue({ config, taskId: 'task-123', workload: WORKLOAD, scopes, ttlSeconds, now });
  return { keyring, revoked, adapter, config, issue };
}

export const minutes = (date: Date, n: number): Date => new Date(date.getTime() + n * 60_000);
