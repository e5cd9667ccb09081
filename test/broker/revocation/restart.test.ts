// Revocations survive a broker restart (ISSUE 4, "Never lost"), on PGlite in a data directory and on
// the real PostgreSQL server: a broker whose backend is down queues the revocations of an ending task
// and is closed; a new broker opened on the same database completes them in the background.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { adapterKind } from '../../../adapters/registry.js';
import { createApp, type App } from '../../../broker/app.js';
import type { Caller } from '../../../broker/auth/authenticator.js';
import { parseConfig } from '../../../broker/config.js';
import { BrokerError } from '../../../broker/errors.js';
import { createPgliteExecutor } from '../../../broker/store/pglite-executor.js';
import type { SqlExecutor } from '../../../broker/store/sql-executor.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { createRecordingAdapter, type RecordingAdapter } from '../../fakes/recording-adapter.js';
import { backends, type TestDb } from '../store/support/backends.js';

const POLICY = `version: 1
roles:
  operators: [{ id: spiffe://taskpass.local/ops/o1 }]
rules:
  - name: agents
    match: [{ glob: 'spiffe://taskpass.local/agents/*' }]
    intents: [work]
    providers: { rec-api: { scopes: ['x:*'] } }
    max_credential_ttl: 10m
    max_task_lifetime: 1h
`;

for (const backend of backends()) {
  describe(`restart on ${backend.name}`, { skip: backend.skip }, () => {
    let dir = '';
    let testDb: TestDb | undefined;
    const clock = new FakeClock('2025-01-01T00:00:00Z');
    const apps: App[] = [];

    /** A new database handle on the same database each time. */
    const executor = async (): Promise<SqlExecutor> => {
      if (backend.name === 'pglite') return createPgliteExecutor({ dataDir: join(dir, 'pglite') });
      testDb ??= await backend.open();
      return testDb.replica!();
    };

    async function open(rec: RecordingAdapter): Promise<App> {
      const config = parseConfig({
        env: { TASKPASS_DATA_DIR: dir, TASKPASS_POLICY_FILE: join(dir, 'policy.yaml') },
        cwd: dir,
        file: { providers: { 'rec-api': { kind: 'rec' } }, revocation: { max_attempts: 5 } },
      });
      const app = await createApp(config, {
        clock,
        timers: clock,
        logger: pino({ level: 'silent' }),
        executor: await executor(),
        taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
        adapterKinds: [adapterKind(rec)],
        watchPolicy: false,
      });
      apps.push(app);
      await app.start();
      return app;
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'taskpass-restart-'));
      await writeFile(join(dir, 'policy.yaml'), POLICY);
    });
    after(async () => {
      for (const app of apps) await app.stop();
      await testDb?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('completes the revocations a closed broker left queued', async () => {
      const down = createRecordingAdapter('rec');
      for (let i = 0; i < 3; i++)
        down.fake.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'revoke');
      const first = await open(down);
      const caller: Caller = {
        id: SpiffeId.parse('spiffe://taskpass.local/agents/restart'),
        via: 'jwt-svid',
        svidExpiresAt: new Date(clock.now().getTime() + 3_600_000),
      };
      const task = await first.tasks.start(caller, {
        intent: { name: 'work' },
        manifest: [{ provider: 'rec-api', scopes: ['x:a'] }],
      });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await first.issuance.issue(caller, { taskId: task.id, provider: 'rec-api' })).credentialId);
      const ended = await first.tasks.complete(caller, task.id);
      assert.equal(ended.credentials.pending.length, 3, 'the backend is down: all three stay queued');
      await first.stop();

      const up = createRecordingAdapter('rec');
      const second = await open(up);
      // The retry falls due; the new broker's own background worker takes it.
      clock.advance(2000);
      await second.revocation.worker.idle();
      const page = await second.revocations.credentials(
        {
          id: SpiffeId.parse('spiffe://taskpass.local/ops/o1'),
          via: 'jwt-svid',
          svidExpiresAt: new Date(clock.now().getTime() + 60_000),
        },
        { taskId: task.id },
      );
      assert.deepEqual(
        page.items.map((c) => [c.status, c.revocation?.state, c.revocation?.attempts]).sort(),
        ids.map(() => ['revoked', 'done', 2]),
      );
      assert.equal(up.revokeCalls().size, 3, 'the new broker called the backend for each');
      const events = await second.store.queryEvents({ types: ['credential.revoked'], taskId: task.id });
      assert.deepEqual(events.items.map((e) => e.credentialId).sort(), [...ids].sort());
    });
  });
}
