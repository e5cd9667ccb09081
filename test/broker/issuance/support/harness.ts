/**
 * A broker core for service tests: PGlite in memory behind a FaultyExecutor, the real development CA
 * for SVIDs, the real `jwt` provider (`crm-api`) and the fake adapter (`fake-api`) for failure
 * injection, a policy built from a plain document, and the fake clock.
 */
import { pino } from 'pino';
import { createFakeAdapter, type FakeAdapter } from '../../../../adapters/fake/index.js';
import { createJwtAdapter } from '../../../../adapters/jwt/index.js';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../../adapters/jwt/signing-keys.js';
import { adapterKind, createProviderRegistry, type ProviderRegistry } from '../../../../adapters/registry.js';
import {
  createAuthenticator,
  type Authenticator,
  type Caller,
} from '../../../../broker/auth/authenticator.js';
import { createMemoryReplayStore } from '../../../../broker/auth/replay-store.js';
import { BrokerError } from '../../../../broker/errors.js';
import { randomIds } from '../../../../broker/issuance/id-source.js';
import { createIssuanceService, type IssuanceService } from '../../../../broker/issuance/issuance-service.js';
import { createIntrospector, type Introspector } from '../../../../broker/introspection/introspect.js';
import { findRule } from '../../../../broker/policy/match-rule.js';
import { parsePolicy } from '../../../../broker/policy/load-policy.js';
import type { Policy } from '../../../../broker/policy/policy-types.js';
import { createRateLimiter } from '../../../../broker/policy/rate-limiter.js';
import type { IssuanceStore, LedgerEvent, LedgerEventType } from '../../../../broker/store/issuance-store.js';
import { createSqlIssuanceStore } from '../../../../broker/store/sql-issuance-store.js';
import { createExpirySweeper, type ExpirySweeper } from '../../../../broker/tasks/expiry-sweeper.js';
import {
  createRevocationEngine,
  type RevocationEngine,
} from '../../../../broker/revocation/revocation-engine.js';
import { DEFAULT_REVOCATION_SETTINGS } from '../../../../broker/revocation/revocation-settings.js';
import { createSqlRevocationStore } from '../../../../broker/store/sql-revocation-store.js';
import { createTaskService, type TaskService } from '../../../../broker/tasks/task-service.js';
import { BundleSet } from '../../../../spiffe/bundle-set.js';
import { createDevCa, type DevCa } from '../../../../spiffe/ca/index.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../../spiffe/trust-domain.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { backends, openMigrated } from '../../store/support/backends.js';
import { FaultyExecutor } from '../../store/support/faulty-executor.js';

export const BROKER_AUDIENCE = 'taskpass-broker';
export const ISSUER = 'https://broker.test';
/** The operator of the test policy. */
export const OPERATOR_PATH = '/ops/o1';
const ROLES = { operators: [{ id: `spiffe://taskpass.local${OPERATOR_PATH}` }] };

/** The test policy's rule, as a plain object; `overrides` replace top-level keys. */
export function agentsRule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'agents',
    match: [{ glob: 'spiffe://taskpass.local/agents/*' }],
    intents: ['summarize-ticket'],
    providers: { 'crm-api': { scopes: ['crm:read', 'crm:write'] }, 'fake-api': { scopes: ['x:*'] } },
    max_credential_ttl: '5m',
    max_task_lifetime: '30m',
    quotas: { active_tasks: 3, credentials_per_task: 10, issuance_rate: { per_second: 10, burst: 20 } },
    ...overrides,
  };
}

/** Everything a service test needs. */
export interface Harness {
  readonly clock: FakeClock;
  readonly ca: DevCa;
  readonly executor: FaultyExecutor;
  readonly store: IssuanceStore;
  readonly fake: FakeAdapter;
  readonly providers: ProviderRegistry;
  readonly keyring: TaskTokenKeyring;
  readonly authenticator: Authenticator;
  readonly tasks: TaskService;
  readonly issuance: IssuanceService;
  readonly introspector: Introspector;
  readonly sweeper: ExpirySweeper;
  /** The revocation engine (queue worker, credential expiry, operator service), not started. */
  readonly revocation: RevocationEngine;
  /** A caller authenticated by a fresh JWT-SVID of `path` (under taskpass.local), valid `ttl` seconds. */
  caller(path?: string, ttlSeconds?: number): Promise<Caller>;
  /** Replaces the policy in force (a reload). */
  setPolicy(rules: Record<string, unknown>[]): void;
  /** Ledger events of `type`, oldest first. */
  events(type: LedgerEventType, taskId?: string): Promise<LedgerEvent[]>;
  close(): Promise<void>;
}

/** Builds a {@link Harness} whose policy has `rules` (default: {@link agentsRule}). */
export async function createHarness(rules: Record<string, unknown>[] = [agentsRule()]): Promise<Harness> {
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const db = await openMigrated(backends()[0]!);
  const executor = new FaultyExecutor(db.executor);
  const store = createSqlIssuanceStore(executor);
  const ca = await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock });
  let policy: Policy = parsePolicy(JSON.stringify({ version: 1, roles: ROLES, rules }));
  const holder = { current: () => policy };
  const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: clock.now() });
  const fake = createFakeAdapter();
  const jwt = createJwtAdapter({ keyring, isRevoked: async () => false });
  const providers = createProviderRegistry([adapterKind(jwt), adapterKind(fake)], {
    'crm-api': { kind: 'jwt', audience: 'crm-api', issuer: ISSUER },
    'fake-api': { kind: 'fake' },
  });
  const logger = pino({ level: 'silent' });
  const replay = {
    store: createMemoryReplayStore(),
    required: (id: SpiffeId) => findRule(policy, id)?.rule.jwtSvidReplayProtection ?? false,
  };
  const authenticator = createAuthenticator({
    bundles: new BundleSet([ca.bundle()]),
    audience: BROKER_AUDIENCE,
    clock,
    replay,
  });
  const common = { store, providers, policy: holder, clock, ids: randomIds, logger };
  const revocationStore = createSqlRevocationStore(executor);
  const revocation = createRevocationEngine({
    ...common,
    store: revocationStore,
    timers: clock,
    settings: DEFAULT_REVOCATION_SETTINGS,
  });
  return {
    clock,
    ca,
    executor,
    store,
    fake,
    providers,
    keyring,
    authenticator,
    tasks: createTaskService({ ...common, revoker: revocation.worker }),
    issuance: createIssuanceService({
      ...common,
      rateLimiter: createRateLimiter(),
      quarantines: revocationStore,
    }),
    introspector: createIntrospector({
      keyring,
      algorithms: ['ES256'],
      audiences: ['crm-api'],
      issuer: ISSUER,
      store,
      clock,
    }),
    sweeper: createExpirySweeper({ store, revoker: revocation.worker, clock, timers: clock, logger }),
    revocation,
    async caller(path = '/agents/a1', ttlSeconds = 3600) {
      const svid = await ca.mintJwtSvid({
        id: SpiffeId.parse(`spiffe://taskpass.local${path}`),
        now: clock.now(),
        audience: [BROKER_AUDIENCE],
        ttlSeconds,
      });
      return authenticator.authenticateBearer(svid.token);
    },
    setPolicy(next) {
      policy = parsePolicy(JSON.stringify({ version: 1, roles: ROLES, rules: next }));
    },
    async events(type, taskId) {
      const page = await store.queryEvents({ types: [type], ...(taskId ? { taskId } : {}), limit: 1000 });
      return [...page.items];
    },
    async close() {
      await revocation.stop();
      await db.cleanup();
    },
  };
}

/** The code of the BrokerError `p` rejects with. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof BrokerError)) throw err;
  return err.code;
}

/** A task start request for `crm-api` and `fake-api`. */
export const START = Object.freeze({
  intent: { name: 'summarize-ticket', text: 'summarise ticket 123' },
  manifest: [
    { provider: 'crm-api', scopes: ['crm:read'] },
    { provider: 'fake-api', scopes: ['x:read'] },
  ],
});

/** A connection failure as the executor reports one. */
export function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}
