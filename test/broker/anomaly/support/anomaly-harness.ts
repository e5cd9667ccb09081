/**
 * The anomaly engine over a real broker core (the revocation harness: real stores, task, issuance
 * and revocation services on PGlite or the real PostgreSQL server), with its own policy: a detector
 * role, `anomaly_responses` rules, and detectors at threshold 2. SETs are signed by a test JWT
 * authority that is the trust domain's bundle.
 */
import { pino } from 'pino';
import { createAnomalyEngine, type AnomalyEngine } from '../../../../broker/anomaly/anomaly-engine.js';
import type { Caller } from '../../../../broker/auth/authenticator.js';
import { randomIds } from '../../../../broker/issuance/id-source.js';
import { createIssuanceService, type IssuanceService } from '../../../../broker/issuance/issuance-service.js';
import { parsePolicy } from '../../../../broker/policy/load-policy.js';
import type { Policy } from '../../../../broker/policy/policy-types.js';
import { createRateLimiter } from '../../../../broker/policy/rate-limiter.js';
import type { LedgerEvent, LedgerEventType } from '../../../../broker/store/issuance-store.js';
import { createSqlSetReceiptStore } from '../../../../broker/store/set-receipts-sql.js';
import type { SqlExecutor } from '../../../../broker/store/sql-executor.js';
import type { BundleSource } from '../../../../spiffe/bundle.js';
import { staticSource, testBundle } from '../../../support/test-ca.js';
import { TestJwtAuthority } from '../../../support/test-jwt.js';
import {
  createRevocationHarness,
  type RevocationHarness,
} from '../../revocation/support/revocation-harness.js';
import type { Backend } from '../../store/support/backends.js';
import { DETECTOR } from './set-fixtures.js';

export const AUDIENCE = 'taskpass-broker';
export const OUTSIDER = 'spiffe://taskpass.local/agents/outsider';

/** The policy of the anomaly suites (the revocation harness keeps its own for tasks and issuance). */
export const ANOMALY_POLICY = {
  version: 1,
  roles: { detectors: [{ prefix: 'spiffe://taskpass.local/detectors' }] },
  rules: [
    {
      name: 'everyone',
      match: [{ trust_domain: 'taskpass.local' }],
      intents: ['work'],
      providers: { 'rec-api': { scopes: ['x:*'] }, 'eo-api': { scopes: ['x:*'] } },
      max_credential_ttl: '10m',
      max_task_lifetime: '1h',
      quotas: { issuance_rate: { per_second: 0.001, burst: 2 } },
    },
  ],
  anomaly_responses: {
    default: 'record_only',
    rules: [
      { name: 'injection', kinds: ['prompt_injection'], min_severity: 'high', response: 'revoke_task' },
      {
        name: 'exfiltration',
        kinds: ['exfiltration', 'risc.credential_compromise'],
        response: 'quarantine_workload',
      },
      { name: 'severe-caep', kinds: ['caep.*'], min_severity: 'high', response: 'revoke_task' },
      { name: 'ended-task-use', kinds: ['broker.ended_task_request'], response: 'quarantine_workload' },
    ],
    detectors: {
      issuance_burst: { threshold: 2, window: '1m' },
      ended_task_request: { threshold: 1, window: '1m' },
      svid_replay: { threshold: 2, window: '1m' },
    },
  },
};

/** The revocation harness plus an anomaly engine (and issuance service observed by its detectors). */
export interface AnomalyHarness extends RevocationHarness {
  readonly policy: Policy;
  readonly authority: TestJwtAuthority;
  readonly bundles: BundleSource;
  readonly anomaly: AnomalyEngine;
  /** An issuance service under {@link ANOMALY_POLICY} (its low issuance rate), observed by the detectors. */
  readonly observedIssuance: IssuanceService;
  readonly detector: Caller;
  /** Another engine on `executor` (a second broker replica sharing the database). */
  engineOn(executor: SqlExecutor): AnomalyEngine;
  /** Every event of `types`, oldest first. */
  ledger(...types: LedgerEventType[]): Promise<LedgerEvent[]>;
}

/** Builds an {@link AnomalyHarness} on `backend`. */
export async function createAnomalyHarness(backend: Backend): Promise<AnomalyHarness> {
  const h = await createRevocationHarness(backend);
  const policy = parsePolicy(JSON.stringify(ANOMALY_POLICY));
  const holder = { current: () => policy };
  const authority = new TestJwtAuthority('ES256');
  const bundles = staticSource(testBundle('taskpass.local', { jwt: [authority] }));
  const logger = pino({ level: 'silent' });
  const engineOn = (executor: SqlExecutor): AnomalyEngine =>
    createAnomalyEngine({
      store: h.store,
      responder: h.engine.service,
      policy: holder,
      bundles,
      audience: AUDIENCE,
      setReceipts: createSqlSetReceiptStore(executor),
      clock: h.clock,
      ids: randomIds,
      logger,
    });
  const anomaly = engineOn(h.executor);
  const observedIssuance = createIssuanceService({
    store: h.store,
    providers: h.providers,
    policy: holder,
    rateLimiter: createRateLimiter(),
    clock: h.clock,
    ids: randomIds,
    logger,
    quarantines: h.revocationStore,
    anomaly: anomaly.observer,
  });
  return {
    ...h,
    policy,
    authority,
    bundles,
    anomaly,
    observedIssuance,
    detector: h.caller(DETECTOR),
    engineOn,
    async ledger(...types) {
      const page = await h.store.queryEvents({ types, limit: 1000 });
      return [...page.items];
    },
    async close() {
      await anomaly.stop();
      await h.close();
    },
  };
}
