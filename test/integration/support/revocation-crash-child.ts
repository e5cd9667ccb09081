/**
 * The process the revocation crash suite kills with SIGKILL. It opens the broker on the schema named
 * by its environment (`CRASH_DB_URL`, `CRASH_DB_SCHEMA`, `CRASH_DIR`), makes `stuck-api` revokes hang
 * (its worker holds those queue rows leased when it dies) and `down-api` revokes fail (those rows wait
 * in the queue with a backoff), ends `CRASH_TASKS` tasks holding both kinds of credential, prints one
 * line `READY {"tasks":[…],"credentials":[…]}` and waits to be killed.
 */
import { BrokerError } from '../../../broker/errors.js';
import { createRecordingAdapter } from '../../fakes/recording-adapter.js';
import { callerOf, openCrashBroker } from './revocation-crash-broker.js';

const env = process.env;
const stuck = createRecordingAdapter('stuck');
const down = createRecordingAdapter('down');
stuck.hangRevokes();
for (let i = 0; i < 10_000; i++)
  down.fake.failNextWith(new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE'), 'revoke');

const app = await openCrashBroker(
  {
    url: env['CRASH_DB_URL'] as string,
    schema: env['CRASH_DB_SCHEMA'] as string,
    dir: env['CRASH_DIR'] as string,
  },
  stuck,
  down,
);
const count = Number(env['CRASH_TASKS'] ?? '8');
const tasks: string[] = [];
const credentials: string[] = [];
await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const caller = callerOf(`spiffe://taskpass.local/agents/crash-${i}`);
    const manifest = [
      { provider: 'stuck-api', scopes: ['x:a'] },
      { provider: 'down-api', scopes: ['x:a'] },
    ];
    const task = await app.tasks.start(caller, { intent: { name: 'work' }, manifest });
    for (const provider of ['stuck-api', 'stuck-api', 'down-api']) {
      credentials.push((await app.issuance.issue(caller, { taskId: task.id, provider })).credentialId);
    }
    tasks.push(task.id);
    // Ends the task: its revocations are queued; the call answers `pending` after its bounded wait.
    await app.tasks.complete(caller, task.id);
  }),
);
process.stdout.write(`READY ${JSON.stringify({ tasks, credentials })}\n`);
// Wait to be killed; never stop cleanly.
setInterval(() => undefined, 60_000);
