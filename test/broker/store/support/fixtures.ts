import { createHash, randomUUID } from 'node:crypto';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type { IssuanceStore, NewIssuance, NewTask } from '../../../../broker/store/issuance-store.js';

/** The suites' fixed "now". */
export const T0 = new Date('2025-01-01T00:00:00.000Z');

/** `T0 + seconds`. */
export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** A fresh workload identity, so tests sharing a database do not see each other's rows. */
export function workload(): SpiffeId {
  return SpiffeId.parse(`spiffe://example.org/agent/${randomUUID()}`);
}

/** A task input: starts at T0, deadline in an hour. */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return {
    id: randomUUID(),
    workload: workload(),
    intent: { name: 'summarise-ticket', text: 'summarise ticket 123' },
    manifest: [{ provider: 'crm-api', scopes: ['tickets:read'] }],
    deadline: at(3600),
    now: T0,
    ...overrides,
  };
}

/** SHA-256 hex, as the broker hashes a credential value. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** An issuance input for `taskId` at T0+10s, valid five minutes, for the secret `secret`. */
export function newIssuance(
  taskId: string,
  secret: string = randomUUID(),
  overrides: Partial<NewIssuance> = {},
): NewIssuance {
  return {
    id: randomUUID(),
    taskId,
    provider: 'crm-api',
    scopes: ['tickets:read'],
    ttlSeconds: 300,
    expiresAt: at(310),
    revocationHandle: { jti: randomUUID() },
    secretHash: sha256(secret),
    revocability: 'revocable',
    now: at(10),
    ...overrides,
  };
}

/** Creates a task and returns its id. */
export async function startTask(store: IssuanceStore, overrides: Partial<NewTask> = {}): Promise<string> {
  return (await store.createTask(newTask(overrides))).id;
}
