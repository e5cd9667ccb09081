import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  parseJwtProviderConfig,
  type JwtProviderConfig,
  type TaskTokenAlgorithm,
} from '../adapters/jwt/config.js';
import { createJwtAdapter } from '../adapters/jwt/index.js';
import { createFileTaskTokenKeyStore, type TaskTokenKeyStore } from '../adapters/jwt/key-store.js';
import { parseKeyEncryptionKey } from '../adapters/jwt/sealed-keys.js';
import { TaskTokenKeyring, type TaskTokenJwks } from '../adapters/jwt/signing-keys.js';
import { createAwsStsAdapterKind, createKeyringWebIdentitySigner } from '../adapters/aws-sts/index.js';
import { createPostgresRoleAdapter } from '../adapters/postgres-role/index.js';
import { vaultAdapterKind } from '../adapters/vault/index.js';
import {
  adapterKind,
  createProviderRegistry,
  type AdapterKind,
  type ProviderRegistry,
} from '../adapters/registry.js';
import type { BundleSource } from '../spiffe/bundle.js';
import { BundleSet } from '../spiffe/bundle-set.js';
import { createDevCa, type DevCa } from '../spiffe/ca/index.js';
import type { Clock } from '../spiffe/clock.js';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import { createMemoryReplayStore, type ReplayStore } from './auth/replay-store.js';
import { devCaJwtSvidSource, type BrokerJwtSvidSource } from './broker-jwt-svid.js';
import type { BrokerConfig } from './config.js';
import { BrokerError } from './errors.js';
import { createIntrospector, type Introspector } from './introspection/introspect.js';
import { randomIds, type IdSource } from './issuance/id-source.js';
import { createIssuanceService, type IssuanceService } from './issuance/issuance-service.js';
import { createTokenExchange, type TokenExchange } from './issuance/token-exchange.js';
import { createLedgerSealer, type LedgerSealer } from './ledger/hash-chain.js';
import { findRule } from './policy/match-rule.js';
import { createPolicyWatcher, fsWatchFile, type PolicyWatcher } from './policy/policy-watcher.js';
import { createRateLimiter } from './policy/rate-limiter.js';
import type { IssuanceStore } from './store/issuance-store.js';
import { createMigrator, loadMigrations } from './store/migrator.js';
import { createPgExecutor } from './store/pg-executor.js';
import { createPgliteExecutor } from './store/pglite-executor.js';
import { createSqlChainStore, type LedgerChainStore } from './store/sql-chain-store.js';
import type { SqlExecutor } from './store/sql-executor.js';
import { createSqlIssuanceStore } from './store/sql-issuance-store.js';
import { createSqlTaskTokenKeyStore } from './store/sql-task-token-key-store.js';
import { createPeriodic } from './periodic.js';
import { createExpirySweeper, type ExpirySweeper, type SweepTimers } from './tasks/expiry-sweeper.js';
import { createTaskService, type TaskService } from './tasks/task-service.js';
import { createRevocationEngine, type RevocationEngine } from './revocation/revocation-engine.js';
import type { RevocationService } from './revocation/revocation-service.js';
import { createSqlRevocationStore } from './store/sql-revocation-store.js';
import { createRevocationFeed, type RevocationFeed } from './revocation/feed.js';
import { isJtiRevoked } from './store/credential-by-jti.js';
import { createAnomalyEngine, type AnomalyEngine } from './anomaly/anomaly-engine.js';
import { createSqlSetReceiptStore } from './store/set-receipts-sql.js';

/** What {@link createApp} takes besides the config: the seams, and optional replacements for tests. */
export interface AppOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Timers for the sweeper and the sealer (default: Node's). */
  readonly timers?: SweepTimers;
  readonly ids?: IdSource;
  /** A database to use instead of the configured one (tests: in-memory PGlite). */
  readonly executor?: SqlExecutor;
  /** Trust bundles; required in `workload-api` mode (`main.ts` feeds them from the agent). */
  readonly bundles?: BundleSource;
  /** Where task-token signing keys live (default `<data-dir>/task-tokens/`). */
  readonly taskTokenKeyStore?: TaskTokenKeyStore;
  /** Provider kinds besides the built-in `jwt` (vault, aws-sts…, or the fake in tests). */
  readonly adapterKinds?: readonly AdapterKind[];
  /**
   * The broker's own JWT-SVID (vault's JWT auth); `main.ts`/`server.ts` pass the agent's in
   * `workload-api` mode. Default in `dev-ca` mode: minted from the development CA.
   */
  readonly brokerJwtSvid?: BrokerJwtSvidSource;
  readonly replayStore?: ReplayStore;
  /** Watch the policy file for changes (default true; SIGHUP → `app.policy.reload()` either way). */
  readonly watchPolicy?: boolean;
  readonly sweepIntervalMs?: number;
  readonly sealIntervalMs?: number;
}

/**
 * The running broker minus its listeners (DESIGN.md Layout: `app.ts` wires everything, never
 * listens). HTTP and gRPC servers mount routes on these services.
 */
export interface App {
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: IssuanceStore;
  readonly chain: LedgerChainStore;
  readonly sealer: LedgerSealer;
  readonly policy: PolicyWatcher;
  readonly providers: ProviderRegistry;
  readonly keyring: TaskTokenKeyring;
  readonly bundles: BundleSource;
  /** The development CA in `dev-ca` mode (mints the walk-through's SVIDs), else undefined. */
  readonly devCa: DevCa | undefined;
  readonly authenticator: Authenticator;
  readonly tasks: TaskService;
  readonly issuance: IssuanceService;
  readonly introspector: Introspector;
  readonly tokenExchange: TokenExchange;
  readonly sweeper: ExpirySweeper;
  /** The revocation engine (ISSUE 4): durable queue worker, credential expiry, operator service. */
  readonly revocation: RevocationEngine;
  /** The operators' revocation port (`revocation.service`). */
  readonly revocations: RevocationService;
  /** The revocation push feed of this replica (LISTEN/NOTIFY); starts on its first subscriber. */
  readonly revocationFeed: RevocationFeed;
  /** Anomaly signals (ISSUE 4): the signal service and the built-in detectors. */
  readonly anomaly: AnomalyEngine;
  /** The task-token JWKS at the current time (`GET /.well-known/jwks.json`). */
  jwks(): TaskTokenJwks;
  /** True when the database answers (`GET /readyz`). */
  ready(): Promise<boolean>;
  /** Starts the background work: expiry sweeps and periodic ledger sealing. Idempotent. */
  start(): Promise<void>;
  /** Stops background work, closes the policy watcher and the database. */
  stop(): Promise<void>;
}

const NODE_TIMERS: SweepTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The `jwt` providers' parsed configs (for introspection's audiences and algorithms). */
function jwtConfigs(config: BrokerConfig): JwtProviderConfig[] {
  return Object.values(config.providers)
    .filter((p) => p['kind'] === 'jwt')
    .map(({ kind: _kind, ...rest }) => parseJwtProviderConfig(rest));
}

/** How often a replica re-reads the shared task-token keys (rotation is daily; see docs/operations). */
const KEY_REFRESH_MS = 10_000;

/**
 * Where the task-token signing keys live: in the database, sealed under the key-encryption key, when
 * one is configured (every replica shares them); else in `<data-dir>/task-tokens/`.
 */
async function taskTokenKeyStore(
  config: BrokerConfig,
  db: SqlExecutor,
  clock: Clock,
): Promise<TaskTokenKeyStore> {
  if (config.keyEncryptionKeyFile === undefined) return createFileTaskTokenKeyStore(config.dataDir);
  let contents: Buffer;
  try {
    contents = await readFile(config.keyEncryptionKeyFile);
  } catch (err) {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'key_encryption_key_file cannot be read', { cause: err });
  }
  return createSqlTaskTokenKeyStore(db, parseKeyEncryptionKey(contents), clock);
}

async function openDatabase(config: BrokerConfig, opts: AppOptions): Promise<SqlExecutor> {
  const db =
    opts.executor ??
    (config.database.kind === 'postgres'
      ? createPgExecutor({ url: config.database.url })
      : await createPgliteExecutor({ dataDir: config.database.dataDir }));
  // Migrations at start (DESIGN.md Layout: `taskpass migrate`, and at start); serialized by a lock.
  await createMigrator(db, await loadMigrations()).up();
  return db;
}

async function trust(
  config: BrokerConfig,
  opts: AppOptions,
): Promise<{ bundles: BundleSource; devCa: DevCa | undefined }> {
  if (opts.bundles) return { bundles: opts.bundles, devCa: undefined };
  if (config.identity.mode === 'workload-api') {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'workload api mode needs bundles from the agent client');
  }
  const devCa = await createDevCa({
    trustDomain: config.trustDomain,
    clock: opts.clock,
    dataDir: config.dataDir,
  });
  return { bundles: new BundleSet([devCa.bundle()]), devCa };
}

/** The state-holding parts: store, ledger sealer, policy (recorded in the ledger), keyring, providers. */
async function buildCore(config: BrokerConfig, opts: AppOptions, db: SqlExecutor, log: Logger) {
  const { clock } = opts;
  const store = createSqlIssuanceStore(db);
  const chain = createSqlChainStore(db);
  const sealer = createLedgerSealer({ chain, onError: () => log.warn('ledger seal failed') });
  const record = (sha256: string) =>
    store.recordPolicyVersion({ sha256, source: config.policyFile, now: clock.now() }).then(() => undefined);
  const policy = await createPolicyWatcher({
    path: config.policyFile,
    ...(opts.watchPolicy === false ? {} : { watchFile: fsWatchFile }),
    // Recorded before it takes effect: no policy is in force without its ledger event.
    onReload: (info) => record(info.sha256),
    onError: (err) => log.error({ err_code: err.code }, 'policy reload refused'),
  });
  try {
    await record(policy.current().sha256);
    const jwtProviders = jwtConfigs(config);
    const found = [...new Set(jwtProviders.map((p) => p.algorithm))];
    const algorithms: TaskTokenAlgorithm[] = found.length > 0 ? found : ['ES256'];
    const keyring = await TaskTokenKeyring.open({
      store: opts.taskTokenKeyStore ?? (await taskTokenKeyStore(config, db, clock)),
      algorithms,
      now: clock.now(),
    });
    // The jwt adapter's verifyRevoked asks the broker's record by jti (credentials_jti_idx).
    const jwt = createJwtAdapter({ keyring, isRevoked: (jti) => isJtiRevoked(db, jti) });
    // aws-sts in web-identity mode signs its OIDC tokens with the same keyring, as the broker's issuer.
    const awsSts = createAwsStsAdapterKind({
      clock,
      webIdentityToken: createKeyringWebIdentitySigner({ keyring, issuer: config.issuer }),
    });
    const providers = createProviderRegistry(
      [
        adapterKind(jwt),
        adapterKind(createPostgresRoleAdapter()),
        awsSts,
        vaultAdapterKind({ clock, jwtSvid: opts.brokerJwtSvid }),
        ...(opts.adapterKinds ?? []),
      ],
      config.providers,
    );
    const revocationStore = createSqlRevocationStore(db);
    // Security Event Token jtis, shared by replicas (anomaly signals, RFC 8935 push).
    const setReceipts = createSqlSetReceiptStore(db);
    return {
      store,
      chain,
      sealer,
      policy,
      keyring,
      providers,
      jwtProviders,
      algorithms,
      revocationStore,
      setReceipts,
    };
  } catch (err) {
    policy.close();
    throw err;
  }
}

type Core = Awaited<ReturnType<typeof buildCore>>;

/** The services over the core. */
function buildServices(config: BrokerConfig, opts: AppOptions, core: Core, bundles: BundleSource) {
  const { store, providers, policy, keyring, sealer, jwtProviders, algorithms } = core;
  const { clock } = opts;
  const onCommitted = () => sealer.notify();
  const common = {
    store,
    providers,
    policy,
    clock,
    ids: opts.ids ?? randomIds,
    logger: opts.logger,
    onCommitted,
  };
  const timers = opts.timers ?? NODE_TIMERS;
  const revocation = createRevocationEngine({
    ...common,
    store: core.revocationStore,
    timers,
    settings: config.revocation,
  });
  // Anomaly signals (ISSUE 4): responses act through the revocation service; the built-in detectors
  // observe the authenticator, the issuance service and the introspector (in memory, no I/O).
  const anomaly = createAnomalyEngine({
    ...common,
    responder: revocation.service,
    bundles,
    audience: config.audience,
    setReceipts: core.setReceipts,
  });
  const authenticator = createAuthenticator({
    bundles,
    audience: config.audience,
    clock,
    replay: {
      store: opts.replayStore ?? createMemoryReplayStore(),
      required: (id) => findRule(policy.current(), id)?.rule.jwtSvidReplayProtection ?? false,
    },
    observer: anomaly.observer,
  });
  const issuance = createIssuanceService({
    ...common,
    rateLimiter: createRateLimiter(),
    quarantines: core.revocationStore,
    anomaly: anomaly.observer,
  });
  const issuers = [...new Set(jwtProviders.map((p) => p.issuer))];
  const introspector = createIntrospector({
    keyring,
    algorithms,
    audiences: [...new Set(jwtProviders.map((p) => p.audience))],
    issuer: issuers.length === 1 ? issuers[0] : undefined,
    store,
    clock,
    observer: anomaly.observer,
  });
  const interval = opts.sweepIntervalMs === undefined ? {} : { intervalMs: opts.sweepIntervalMs };
  return {
    authenticator,
    revocation,
    revocations: revocation.service,
    anomaly,
    tasks: createTaskService({ ...common, revoker: revocation.worker }),
    issuance,
    introspector,
    tokenExchange: createTokenExchange({ authenticator, issuance, providers }),
    sweeper: createExpirySweeper({ ...common, revoker: revocation.worker, timers, ...interval }),
  };
}

/**
 * Builds the broker from `config` (DESIGN.md Layout: `app.ts` wires everything, never listens): opens
 * the database and applies migrations, loads the policy (its version recorded in the ledger now and
 * on every reload, before it takes effect), opens the task-token keyring, instantiates the providers,
 * and wires the authenticator and services. Background work (expiry sweeps, ledger sealing) begins
 * with `start()`.
 *
 * @throws {BrokerError} `BROKER_STORE_*` (database, migrations), `BROKER_POLICY_*` (first policy
 *   load), `BROKER_ADAPTER_BAD_CONFIG` (providers), `BROKER_CONFIG_INVALID`; whatever was opened is
 *   closed again.
 */
export async function createApp(config: BrokerConfig, opts: AppOptions): Promise<App> {
  const log = opts.logger.child({ component: 'app' });
  const db = await openDatabase(config, opts);
  // The development CA signs the broker's JWT-SVID in dev-ca mode; trust() creates it after the
  // providers, so the source reads it late (at the first vault login).
  const late: { devCa?: DevCa } = {};
  const devSvid = config.identity.mode === 'dev-ca' && !opts.bundles;
  const brokerJwtSvid =
    opts.brokerJwtSvid ?? (devSvid ? devCaJwtSvidSource(() => late.devCa, opts.clock) : undefined);
  let core: Core;
  try {
    core = await buildCore(config, { ...opts, brokerJwtSvid }, db, log);
  } catch (err) {
    await db.close();
    throw err;
  }
  try {
    const { bundles, devCa } = await trust(config, opts);
    late.devCa = devCa;
    const services = buildServices(config, opts, core, bundles);
    const timers = opts.timers ?? NODE_TIMERS;
    // Periodic sealing (commits also ask for a seal at once).
    const sealing = createPeriodic({
      timers,
      intervalMs: opts.sealIntervalMs ?? 1000,
      run: () => (core.sealer.notify(), core.sealer.idle()),
      onError: () => log.warn('ledger seal failed'),
    });
    // Replicas sharing the database key store adopt each other's key rotations (a no-op otherwise).
    const keyRefresh = createPeriodic({
      timers,
      intervalMs: KEY_REFRESH_MS,
      run: () => core.keyring.refresh(),
      onError: () => log.warn('task token key refresh failed'),
    });
    const { store, chain, sealer, policy, providers, keyring } = core;
    // Catch-ups reach back one task-token lifetime: older events concern expired tokens only.
    const revocationFeed = createRevocationFeed({
      db,
      clock: opts.clock,
      logger: opts.logger,
      horizonSeconds: keyring.overlapSeconds,
    });
    return Object.freeze({
      config,
      clock: opts.clock,
      logger: opts.logger,
      ...{ store, chain, sealer, policy, providers, keyring, bundles, devCa },
      ...services,
      revocationFeed,
      jwks: () => keyring.jwks(opts.clock.now()),
      ready: () =>
        db.query('SELECT 1').then(
          () => true,
          () => false,
        ),
      async start() {
        services.sweeper.start();
        services.revocation.start();
        sealing.start();
        keyRefresh.start();
      },
      async stop() {
        // Built-in signals in flight finish before the database closes.
        await services.anomaly.stop();
        await services.sweeper.stop();
        await services.revocation.stop();
        await sealing.stop();
        await keyRefresh.stop();
        await revocationFeed.stop();
        policy.close();
        await db.close();
      },
    });
  } catch (err) {
    core.policy.close();
    await db.close();
    throw err;
  }
}
