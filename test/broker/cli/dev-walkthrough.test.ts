// The walk-through `taskpass dev` prints is run as printed, by sh, against a real broker: every step
// must do what its comment says.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { devWalkthrough } from '../../../broker/cli/commands/dev-walkthrough.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { DEV_WORKLOAD, startTestBroker, type TestBroker } from '../../support/running-broker.js';

const run = promisify(execFile);

/** The indented shell block between "paste:" and the closing notes. */
function scriptOf(text: string): string {
  const body = text.slice(text.indexOf('paste:\n') + 'paste:\n'.length, text.indexOf('\nAny SPIFFE'));
  return body
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
}

describe('the taskpass dev walk-through', { timeout: 180_000 }, () => {
  let t: TestBroker;

  before(async () => {
    t = await startTestBroker();
  });
  after(() => t.stop());

  it('runs as printed: start, credential, introspect, complete, inactive, refused, revoke, audit, verify', async () => {
    const text = devWalkthrough({
      cli: fileURLToPath(new URL('../../../broker/cli/main.js', import.meta.url)),
      broker: t.url,
      config: t.broker.app.config,
      identity: SpiffeId.parse(DEV_WORKLOAD),
      socket: t.socket,
    });
    assert.ok(text.includes(`export TASKPASS_BROKER_URL=${t.url}`));
    const { stdout, stderr } = await run('sh', ['-c', scriptOf(text)], {
      cwd: t.dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: t.dir },
      timeout: 120_000,
    });
    const task = /^task (\S+)$/m.exec(stdout)?.[1];
    assert.ok(task, stdout + stderr);
    // 3. the CRM API's question while the task runs, then 4. the task completes
    assert.match(stdout, new RegExp(`"active":true,.*"task_id":"${task}"`));
    assert.match(stdout, /^status: completed$/m);
    // 5. the token is dead, and the ended task gets nothing more
    assert.match(stdout, /^\{"active":false\}$/m);
    assert.match(stderr, /^taskpass: BROKER_TASK_ALREADY_ENDED: /m);
    // 6. the operator's view and revocation
    assert.match(stdout, /^ID +STATUS +WORKLOAD +INTENT/m);
    assert.match(stdout, /^counts: \{"revoked":1,"pending":0,"not_revocable":0\}$/m);
    // 7. the ledger of the first task, 8. the chain holds
    for (const type of ['task.started', 'credential.issued', 'task.completed', 'credential.revoked']) {
      assert.match(
        stdout,
        new RegExp(`^\\d+ +\\S+ +${type.replace('.', '\\.')} +${DEV_WORKLOAD}`, 'm'),
        type,
      );
    }
    assert.match(stdout, /^ok: true$/m);
    // The one refusal is the one step 5 expects.
    assert.equal(stderr.match(/^taskpass: /gm)?.length, 1, stderr);
  });
});
