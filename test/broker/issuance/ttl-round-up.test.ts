// A backend minimum lifetime (AWS STS: 900 s) longer than the broker's bound (DESIGN invariant 2):
// released only when the provider declares the rounding, no further than its minimum, and revocable;
// the ledger records it. Anything else outliving the bound is discarded at the backend and refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IssuedCredential, JsonObject } from '../../../adapters/credential-adapter.js';
import type { ProviderInstance } from '../../../adapters/registry.js';
import { createIssuanceService } from '../../../broker/issuance/issuance-service.js';
import { randomIds } from '../../../broker/issuance/id-source.js';
import { createRateLimiter } from '../../../broker/policy/rate-limiter.js';
import { parsePolicy } from '../../../broker/policy/load-policy.js';
import { pino } from 'pino';
import { agentsRule, codeOf, createHarness, START, type Harness } from './support/harness.js';

const MINIMUM = 900;

/** The fake provider, its credentials lengthened to `MINIMUM` seconds and optionally declaring it. */
function lengthened(
  inner: ProviderInstance,
  declare: boolean,
  revocability: ProviderInstance['revocability'] = inner.revocability,
): ProviderInstance {
  return {
    ...inner,
    revocability,
    async issue(req): Promise<IssuedCredential<JsonObject>> {
      const minted = await inner.issue(req);
      return {
        ...minted,
        expiresAt: new Date(req.now.getTime() + MINIMUM * 1000),
        ...(declare && { ttlRoundedUp: { requestedSeconds: req.ttlSeconds, minimumSeconds: MINIMUM } }),
      };
    },
  };
}

describe('a backend minimum TTL rounded up (aws-sts short_ttl: round_up)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness([agentsRule()]);
  });
  after(() => h.close());

  const service = (provider: ProviderInstance) =>
    createIssuanceService({
      store: h.store,
      providers: { get: () => provider },
      policy: { current: () => parsePolicy(JSON.stringify({ version: 1, rules: [agentsRule()] })) },
      rateLimiter: createRateLimiter(),
      clock: h.clock,
      ids: randomIds,
      logger: pino({ level: 'silent' }),
    });

  const cases = [
    { name: 'declared and revocable: released, the rounding in the ledger', declare: true, code: 'ok' },
    { name: 'not declared: discarded and refused', declare: false, code: 'BROKER_INTERNAL' },
    {
      name: 'declared but expires-only: discarded and refused',
      declare: true,
      revocability: 'expires-only' as const,
      code: 'BROKER_INTERNAL',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const caller = await h.caller(`/agents/round-${c.declare}-${c.revocability ?? 'r'}`);
      const task = await h.tasks.start(caller, {
        ...START,
        manifest: [{ provider: 'fake-api', scopes: ['x:1'] }],
      });
      const provider = lengthened(h.providers.get('fake-api'), c.declare, c.revocability);
      const attempt = service(provider).issue(caller, {
        taskId: task.id,
        provider: 'fake-api',
        ttlSeconds: 60,
      });
      if (c.code !== 'ok') {
        assert.equal(await codeOf(attempt), c.code);
        assert.equal((await h.events('credential.issued', task.id)).length, 0);
        const minted = h.fake.records().filter((r) => r.taskId === task.id);
        assert.equal(minted.length, 1, 'the backend did mint it');
        assert.ok(
          minted.every((r) => r.revoked),
          'and the broker killed it there',
        );
        return;
      }
      const issued = await attempt;
      assert.equal(issued.ttlSeconds, MINIMUM);
      assert.equal(issued.expiresAt.getTime(), h.clock.now().getTime() + MINIMUM * 1000);
      const [event] = await h.events('credential.issued', task.id);
      assert.deepEqual(event?.details['ttl_rounded_up'], { requested_seconds: 60, minimum_seconds: MINIMUM });
      assert.equal(event?.details['ttl_seconds'], MINIMUM);
    });
  }
});
