/**
 * The broker of the revocation crash suite, built the same way in the child process that gets
 * `kill -9` and in the test process that restarts it: `createApp` on a `pg` pool in one schema of the
 * real PostgreSQL server, the real clock and timers, and two recording providers — `stuck-api`
 * (revocable) and `down-api` (revocable) — whose backends the caller makes hang or fail.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { adapterKind } from '../../../adapters/registry.js';
import { createApp, type App } from '../../../broker/app.js';
import type { Caller } from '../../../broker/auth/authenticator.js';
import { parseConfig } from '../../../broker/config.js';
import { createPgExecutor } from '../../../broker/store/pg-executor.js';
import { systemClock } from '../../../spiffe/clock.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { RecordingAdapter } from '../../fakes/recording-adapter.js';

export const OPERATOR = 'spiffe://taskpass.local/ops/o1';

const POLICY = `version: 1
roles:
  operators: [{ id: '${OPERATOR}' }]
rules:
  - name: agents
    match: [{ glob: 'spiffe://taskpass.local/agents/*' }]
    intents: [work]
    providers: { stuck-api: { scopes: ['x:*'] }, down-api: { scopes: ['x:*'] } }
    max_credential_ttl: 10m
    max_task_lifetime: 1h
    quotas: { active_tasks: 1000, credentials_per_task: 1000, issuance_rate: { per_second: 100000, burst: 100000 } }
`;

/** Where the broker's database is. */
export interface CrashDb {
  readonly url: string;
  readonly schema: string;
  readonly dir: string;
}

/**
 * Opens the broker (and starts its background work). A short lease (3 s) so that rows held by the
 * killed process fall due again quickly; attempts time out after 2 s; a revoking call waits 1 s.
 */
export async function openCrashBroker(
  db: CrashDb,
  stuck: RecordingAdapter,
  down: RecordingAdapter,
): Promise<App> {
  const policyFile = join(db.dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  const config = parseConfig({
    env: { TASKPASS_DATA_DIR: db.dir, TASKPASS_POLICY_FILE: policyFile },
    cwd: db.dir,
    file: {
      providers: { 'stuck-api': { kind: 'stuck' }, 'down-api': { kind: 'down' } },
      revocation: {
        lease: '3s',
        attempt_timeout: '2s',
        await: '1s',
        poll_interval: '1s',
        base_backoff: '1s',
        max_backoff: '2s',
      },
    },
  });
  const app = await createApp(config, {
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    executor: createPgExecutor({ url: db.url, schema: db.schema, max: 5 }),
    taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
    adapterKinds: [adapterKind(stuck), adapterKind(down)],
    watchPolicy: false,
  });
  await app.start();
  return app;
}

/** A caller built directly (the suite drives the services, not the HTTP API). */
export function callerOf(id: string): Caller {
  return {
    id: SpiffeId.parse(id),
    via: 'jwt-svid',
    svidExpiresAt: new Date(systemClock.now().getTime() + 3_600_000),
  };
}
