// `taskpass introspect` against a real in-process broker: the RFC 7662 answer for a live task token,
// for the same token once its task ended, and for tokens the broker never issued; `--require-active`;
// and the code and exit status of each refusal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BROKER_ERROR_CODES } from '../../../broker/errors.js';
import { runCliCaptured } from '../../support/run-cli.js';
import { AGENT, DEV_WORKLOAD, startTestBroker, type TestBroker } from '../../support/running-broker.js';

describe('taskpass introspect against a real broker', { timeout: 120_000 }, () => {
  let t: TestBroker;
  let rs: string[];
  let task: string;
  let token: string;
  let tokenFile: string;

  async function run(args: string[], json = true) {
    const res = await runCliCaptured(json ? [...args, '--json'] : args);
    return { ...res, out: json ? (JSON.parse(res.stdout || '{}') as Record<string, unknown>) : {} };
  }

  before(async () => {
    t = await startTestBroker();
    // The development workload is a workload, an operator and a resource server in examples/policy.yaml.
    rs = ['--broker', t.url, '--jwt-svid', await t.jwt(DEV_WORKLOAD)];
    const started = await run([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...rs,
    ]);
    task = String(started.out['id']);
    const issued = await run([
      'credential',
      'issue',
      '--task',
      task,
      '--provider',
      'crm-api',
      '--scope',
      'crm:read',
      ...rs,
    ]);
    token = String(issued.out['secret']);
    tokenFile = join(t.dir, 'token.jwt');
    await writeFile(tokenFile, token + '\n', { mode: 0o600 });
  });
  after(() => t.stop());

  it('prints the RFC 7662 answer of a live task token, given inline or in a file', async () => {
    for (const arg of [token, tokenFile]) {
      const res = await run(['introspect', arg, '--require-active', ...rs]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.deepEqual(
        [res.out['active'], res.out['scope'], res.out['task_id'], res.out['aud']],
        [true, 'crm:read', task, 'crm-api'],
      );
      assert.equal(typeof res.out['exp'], 'number');
    }
    const human = await run(['introspect', tokenFile, ...rs], false);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^active: true$/m);
  });

  it('answers exactly {active:false} once the task ended: exit 0, or 1 with --require-active', async () => {
    assert.equal((await run(['task', 'complete', task, ...rs])).code, 0);
    const plain = await run(['introspect', tokenFile, ...rs]);
    assert.deepEqual([plain.code, plain.out], [0, { active: false }]);
    const required = await run(['introspect', tokenFile, '--require-active', ...rs]);
    assert.deepEqual([required.code, required.out], [1, { active: false }]);
    const human = await run(['introspect', token, '--require-active', ...rs], false);
    assert.deepEqual([human.code, human.stdout], [1, 'active: false\n']);
  });

  it('answers {active:false} for a token the broker never issued', async () => {
    const forged = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c2ln`;
    const res = await run(['introspect', forged, ...rs]);
    assert.deepEqual([res.code, res.out], [0, { active: false }]);
  });

  const refusals: readonly [name: string, args: () => Promise<string[]>, code: string][] = [
    [
      'a caller that is not a resource server',
      async () => ['introspect', tokenFile, '--broker', t.url, '--jwt-svid', await t.jwt(AGENT)],
      'BROKER_POLICY_DENIED',
    ],
    [
      'a caller with a JWT-SVID for another audience',
      async () => [
        'introspect',
        tokenFile,
        '--broker',
        t.url,
        '--jwt-svid',
        await t.jwt(DEV_WORKLOAD, { audience: 'crm-api' }),
      ],
      'BROKER_AUTH_INVALID',
    ],
    [
      'a token file that cannot be read',
      async () => ['introspect', join(t.dir, 'missing.jwt'), ...rs],
      'BROKER_CLI_FILE_UNREADABLE',
    ],
    ['no token', async () => ['introspect', ...rs], 'BROKER_CLI_USAGE'],
  ];
  for (const [name, args, code] of refusals) {
    const exit =
      code in BROKER_ERROR_CODES ? BROKER_ERROR_CODES[code as keyof typeof BROKER_ERROR_CODES].exit : 1;
    it(`refuses ${name}: ${code}, exit ${exit}`, async () => {
      const res = await run(await args());
      assert.equal((res.out['error'] as { code?: string } | undefined)?.code, code, res.stdout);
      assert.equal(res.code, exit);
    });
  }
});
