/**
 * A broker core for the revocation suites, on either engine (PGlite or the real PostgreSQL server):
 * the real stores, task and issuance services and revocation engine; providers `rec-api` (revocable,
 * a recording fake with failure injection), `eo-api` (expires-only) and `crm-api` (the real jwt task
 * tokens); the fake clock and timers. Callers are built directly: authentication is not under test.
 */
import { pino } from 'pino';
import { createJwtAdapter } from '../../../../adapters/jwt/index.js';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../../adapters/jwt/signing-keys.js';
import { adapterKind, createProviderRegistry, type ProviderRegistry } from '../../../../adapters/registry.js';
import type { Caller } from '../../../../broker/auth/authenticator.js';
import { randomIds } from '../../../../broker/issuance/id-source.js';
import { createIssuanceService, type IssuanceService } from '../../../../broker/issuance/issuance-service.js';
import { parsePolicy } from '../../../../broker/policy/load-policy.js';
import { createRateLimiter } from '../../../../broker/policy/rate-limiter.js';
import {
  createRevocationEngine,
  type RevocationEngine,
} from '../../../../broker/revocation/revocation-engine.js';
import {
  DEFAULT_REVOCATION_SETTINGS,
  type RevocationSettings,
} from '../../../../broker/revocation/revocation-settings.js';
import type {
  AuditQuery,
  IssuanceStore,
  LedgerEvent,
  LedgerEventType,
} from '../../../../broker/store/issuance-store.js';
import type { RevocationStore } from '../../../../broker/store/revocation-store.js';
import { createSqlIssuanceStore } from '../../../../broker/store/sql-issuance-store.js';
import { createSqlRevocationStore } from '../../../../broker/store/sql-revocation-store.js';
import type { SqlExecutor } from '../../../../broker/store/sql-executor.js';
import { createExpirySweeper, type ExpirySweeper } from '../../../../broker/tasks/expiry-sweeper.js';
import { createTaskService, type TaskService } from '../../../../broker/tasks/task-service.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { createRecordingAdapter, type RecordingAdapter } from '../../../fakes/recording-adapter.js';
import { openMigrated, type Backend, type TestDb } from '../../store/support/backends.js';
import { FaultyExecutor } from '../../store/support/faulty-executor.js';

export const OPERATOR = 'spiffe://taskpass.local/ops/o1';
export const ISSUER = 'https://broker.test';

/** The suites' settings: a short budget so exhaustion is a few steps; fixed jitter (draw 0.5). */
export const TEST_SETTINGS: RevocationSettings = Object.freeze({
  ...DEFAULT_REVOCATION_SETTINGS,
  batchSize: 4,
  expiryBatchSize: 3,
  maxAttempts: 3,
  baseBackoffMs: 1000,
  maxBackoffMs: 4000,
  failedRetryMs: 60_000,
  leaseMs: 30_000,
  attemptTimeoutMs: 10_000,
});

const POLICY = {
  version: 1,
  roles: { operators: [{ id: OPERATOR }] },
  rules: [
    {
      name: 'everyone',
      match: [{ trust_domain: 'taskpass.local' }, { trust_domain: 'other.test' }],
      intents: ['work'],
      providers: {
        'rec-api': { scopes: ['x:*'] },
        'eo-api': { scopes: ['x:*'] },
        'crm-api': { scopes: ['crm:read'] },
      },
      max_credential_ttl: '10m',
      max_task_lifetime: '1h',
      quotas: {
        active_tasks: 1000,
        credentials_per_task: 1000,
        issuance_rate: { per_second: 100000, burst: 100000 },
      },
    },
  ],
};

/** Everything a revocation suite needs. */
export interface RevocationHarness {
  readonly clock: FakeClock;
  readonly db: TestDb;
  /** The executor the stores use, with failure injection. */
  readonly executor: FaultyExecutor;
  readonly store: IssuanceStore;
  readonly revocationStore: RevocationStore;
  readonly providers: ProviderRegistry;
  /** The `rec-api` backend. */
  readonly rec: RecordingAdapter;
  /** The `eo-api` backend (expires-only). */
  readonly eo: RecordingAdapter;
  readonly engine: RevocationEngine;
  readonly tasks: TaskService;
  readonly issuance: IssuanceService;
  readonly sweeper: ExpirySweeper;
  readonly operator: Caller;
  /** A caller of `spiffe://taskpass.local<path>` (or a full SPIFFE ID), its SVID valid two hours. */
  caller(pathOrId: string): Caller;
  /** Starts a task for `caller` and issues one credential per provider listed; returns the ids. */
  taskWith(
    caller: Caller,
    providers: readonly string[],
    parent?: string,
  ): Promise<{ taskId: string; credentials: string[] }>;
  /** Ledger events of `type` (oldest first), optionally narrowed. */
  events(type: LedgerEventType, query?: Omit<AuditQuery, 'types'>): Promise<LedgerEvent[]>;
  /** Builds another engine (a second replica) on `executor`, sharing the providers and the clock. */
  replicaEngine(executor: SqlExecutor): RevocationEngine;
  close(): Promise<void>;
}

/** Builds a {@link RevocationHarness} on `backend`. */
export async function createRevocationHarness(
  backend: Backend,
  settings: RevocationSettings = TEST_SETTINGS,
): Promise<RevocationHarness> {
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const db = await openMigrated(backend);
  const executor = new FaultyExecutor(db.executor);
  const store = createSqlIssuanceStore(executor);
  const revocationStore = createSqlRevocationStore(executor);
  const policy = parsePolicy(JSON.stringify(POLICY));
  const holder = { current: () => policy };
  const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: clock.now() });
  const rec = createRecordingAdapter('rec');
  const eo = createRecordingAdapter('eo', 'expires-only');
  const jwt = createJwtAdapter({ keyring, isRevoked: async () => false });
  const providers = createProviderRegistry([adapterKind(jwt), adapterKind(rec), adapterKind(eo)], {
    'crm-api': { kind: 'jwt', audience: 'crm-api', issuer: ISSUER },
    'rec-api': { kind: 'rec', max_ttl: '10m' },
    'eo-api': { kind: 'eo', max_ttl: '10m' },
  });
  const logger = pino({ level: 'silent' });
  const common = { store, providers, policy: holder, clock, ids: randomIds, logger, random: () => 0.5 };
  const engineOn = (rs: RevocationStore) =>
    createRevocationEngine({ ...common, store: rs, timers: clock, settings });
  const engine = engineOn(revocationStore);
  const others: RevocationEngine[] = [];
  const caller = (pathOrId: string): Caller => ({
    id: SpiffeId.parse(pathOrId.startsWith('spiffe://') ? pathOrId : `spiffe://taskpass.local${pathOrId}`),
    via: 'jwt-svid',
    svidExpiresAt: new Date(clock.now().getTime() + 7_200_000),
  });
  const tasks = createTaskService({ ...common, revoker: engine.worker });
  const issuance = createIssuanceService({
    ...common,
    rateLimiter: createRateLimiter(),
    quarantines: revocationStore,
  });
  return {
    clock,
    db,
    executor,
    store,
    revocationStore,
    providers,
    rec,
    eo,
    engine,
    tasks,
    issuance,
    sweeper: createExpirySweeper({ store, revoker: engine.worker, clock, timers: clock, logger }),
    operator: caller(OPERATOR),
    caller,
    async taskWith(who, list, parent) {
      const manifest = [...new Set(list)].map((provider) => ({
        provider,
        scopes: [provider === 'crm-api' ? 'crm:read' : 'x:read'],
      }));
      const task = await tasks.start(who, {
        intent: { name: 'work' },
        manifest,
        ...(parent !== undefined && { parent }),
      });
      const credentials: string[] = [];
      for (const provider of list) {
        credentials.push((await issuance.issue(who, { taskId: task.id, provider })).credentialId);
      }
      return { taskId: task.id, credentials };
    },
    async events(type, query = {}) {
      const page = await store.queryEvents({ ...query, types: [type], limit: 1000 });
      return [...page.items];
    },
    replicaEngine(executor) {
      const other = engineOn(createSqlRevocationStore(executor));
      others.push(other);
      return other;
    },
    async close() {
      await Promise.all([engine, ...others].map((e) => e.stop()));
      await db.cleanup();
    },
  };
}

/** The code of the BrokerError `p` rejects with (any other rejection or a success fails the test). */
export { codeOf } from '../../issuance/support/harness.js';
