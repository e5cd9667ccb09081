import { Counter, Gauge, type Registry } from 'prom-client';
import type { RevocationMetrics, RevocationMetricsPort } from '../ports.js';

const OUTCOMES = ['revoked', 'retrying', 'revoke_failed', 'stale'] as const;

/**
 * Registers the revocation engine's metrics on `registry` (ISSUE 4: `revoke_failed` is counted in
 * `/metrics`), read from `source` at scrape time:
 *
 * - `taskpass_revocation_queue_depth{state="pending"|"failed"}`: open rows of the durable queue;
 * - `taskpass_credentials_revoke_failed`: credentials whose revocation ran out of retries (alert on > 0);
 * - `taskpass_revocation_attempts_total{outcome}`: this replica's backend attempts — `revoked`,
 *   `retrying` (failed, retried with backoff), `revoke_failed` (failed, budget spent now), `stale`
 *   (succeeded after its claim was taken over).
 *
 * One snapshot serves every metric of a scrape (the collects run together and share it).
 */
export function registerRevocationMetrics(registry: Registry, source: RevocationMetricsPort): void {
  let pending: Promise<RevocationMetrics> | undefined;
  const snapshot = (): Promise<RevocationMetrics> => {
    pending ??= source.snapshot().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  new Gauge({
    name: 'taskpass_revocation_queue_depth',
    help: 'Open rows of the durable revocation queue, by state (pending: retrying; failed: budget spent)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.set({ state: 'pending' }, s.queuePending);
      this.set({ state: 'failed' }, s.queueFailed);
    },
  });
  new Gauge({
    name: 'taskpass_credentials_revoke_failed',
    help: 'Credentials whose backend revocation ran out of retries (still retried; see docs/revocation.md)',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).revokeFailedCredentials);
    },
  });
  new Counter({
    name: 'taskpass_revocation_attempts_total',
    help: 'Backend revocation attempts by this replica, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const { attempts } = await snapshot();
      this.reset();
      for (const outcome of OUTCOMES) this.inc({ outcome }, attempts[outcome]);
    },
  });
}
