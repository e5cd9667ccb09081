import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { createApp, type App } from '../../../broker/app.js';
import { parseConfig } from '../../../broker/config.js';
import { verifyChain } from '../../../broker/ledger/hash-chain.js';
import { createPgliteExecutor } from '../../../broker/store/pglite-executor.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { repositoryRoot } from '../../support/repo-root.js';

describe('createApp', () => {
  let app: App;
  let dataDir: string;
  let clock: FakeClock;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskpass-app-'));
    clock = new FakeClock('2025-01-01T00:00:00Z');
    const config = parseConfig({
      env: {
        TASKPASS_DATA_DIR: dataDir,
        TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
      },
      cwd: dataDir,
    });
    app = await createApp(config, {
      clock,
      logger: pino({ level: 'silent' }),
      timers: clock,
      executor: await createPgliteExecutor(),
      taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
      watchPolicy: false,
    });
    await app.start();
  });
  after(async () => {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('records the policy version in the ledger at start and is ready', async () => {
    const events = await app.store.queryEvents({ types: ['policy.reloaded'] });
    assert.equal(events.items.length, 1);
    assert.equal(events.items[0]?.details['sha256'], app.policy.current().sha256);
    assert.equal(await app.ready(), true);
    assert.equal(app.jwks().keys.length, 1);
  });

  it('runs the walk-through: start, issue, introspect active, complete, introspect inactive, chain verifies', async () => {
    const devCa = app.devCa!;
    const id = SpiffeId.parse('spiffe://taskpass.local/dev/workload');
    const svid = await devCa.mintJwtSvid({ id, now: clock.now(), audience: [app.config.audience] });
    const caller = await app.authenticator.authenticateAuthorization(`Bearer ${svid.token}`);
    const task = await app.tasks.start(caller, {
      intent: { name: 'summarize-ticket', text: 'ticket 123' },
      manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
    });
    const issued = await app.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    const active = await app.introspector.introspect(issued.secret);
    assert.equal(active.active, true);
    if (active.active) assert.equal(active.iss, app.config.issuer);
    await app.tasks.complete(caller, task.id);
    assert.deepEqual(await app.introspector.introspect(issued.secret), { active: false });
    await app.sealer.sealPending({ wait: true });
    const chain = await verifyChain(app.chain);
    assert.equal(chain.ok, true);
    if (chain.ok) assert.equal(chain.unsealed, 0);
  });

  it('expires overdue tasks on the sweeper timer once started', async () => {
    const id = SpiffeId.parse('spiffe://taskpass.local/agents/sweepme');
    const svid = await app.devCa!.mintJwtSvid({ id, now: clock.now(), audience: [app.config.audience] });
    const caller = await app.authenticator.authenticateBearer(svid.token);
    const task = await app.tasks.start(caller, {
      intent: { name: 'summarize-ticket' },
      manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
      ttlSeconds: 2,
    });
    // Let a sweep in flight finish, so the next timer is scheduled from after the deadline.
    await app.sweeper.stop();
    clock.advance(3_000);
    app.sweeper.start();
    clock.advance(1_000);
    await app.sweeper.stop();
    assert.equal((await app.store.getTask(task.id))?.status, 'expired');
  });
});
