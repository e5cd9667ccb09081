// `taskpass signal` against a real in-process broker whose policy (examples/policy.yaml plus a
// detector and anomaly responses) lets a detector report anomalies: JSON signals by task and by
// workload, Security Event Tokens pushed from a file, and the code and exit status of each refusal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { parse as parseYaml } from 'yaml';
import { BROKER_ERROR_CODES } from '../../../broker/errors.js';
import { createCaKeyStore } from '../../../spiffe/ca/index.js';
import { repositoryRoot } from '../../support/repo-root.js';
import { runCliCaptured } from '../../support/run-cli.js';
import { AGENT, DEV_WORKLOAD, startTestBroker, type TestBroker } from '../../support/running-broker.js';

const DETECTOR = 'spiffe://taskpass.local/detectors/guard';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const COMPROMISE = 'https://schemas.openid.net/secevent/risc/event-type/credential-compromise';

/** What `exit` a code gives: the catalog's for BROKER_*, 1 for SPIFFE_*. */
const exitOf = (code: string): number =>
  code in BROKER_ERROR_CODES ? BROKER_ERROR_CODES[code as keyof typeof BROKER_ERROR_CODES].exit : 1;

/** SET claims; `null` drops one. */
interface SetClaims {
  iss?: string;
  aud?: string;
  jti?: string | null;
  events?: Record<string, unknown>;
  sub_id?: Record<string, unknown>;
}

describe('taskpass signal against a real broker', { timeout: 180_000 }, () => {
  let t: TestBroker;
  let detector: string[];
  let agent: string[];
  let operator: string[];
  let files = 0;
  let policyDir: string;

  /** Signs a SET as the detector with the development CA's current JWT key (or `key`). */
  async function setFile(claims: SetClaims = {}, key?: { kid: string; privateKey: KeyObject }) {
    const keys = await createCaKeyStore(join(t.dir, 'data')).loadJwtKeys();
    const current = keys!.at(-1)!;
    const payload: Record<string, unknown> = {
      iss: claims.iss ?? DETECTOR,
      aud: claims.aud ?? 'taskpass-broker',
      events: claims.events ?? { [SESSION_REVOKED]: {} },
      sub_id: claims.sub_id ?? { format: 'uri', uri: AGENT },
    };
    if (claims.jti !== null) payload['jti'] = claims.jti ?? randomUUID();
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: current.alg, kid: key?.kid ?? current.kid, typ: 'secevent+jwt' })
      .setIssuedAt()
      .sign(key?.privateKey ?? current.privateKey);
    const path = join(t.dir, `set-${++files}.jwt`);
    await writeFile(path, token + '\n');
    return path;
  }

  async function run(
    args: string[],
  ): Promise<{ code: number; out: Record<string, unknown>; stdout: string }> {
    const res = await runCliCaptured([...args, '--json']);
    return {
      code: res.code,
      out: JSON.parse(res.stdout || '{}') as Record<string, unknown>,
      stdout: res.stdout,
    };
  }

  async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    const res = await run(args);
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stdout}`);
    return res.out as T;
  }

  async function startTask(): Promise<string> {
    const task = await json<{ id: string }>([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      ...operator,
    ]);
    return task.id;
  }

  const receivedSignals = async (): Promise<number> =>
    (await t.broker.app.store.queryEvents({ types: ['signal.received'], limit: 1000 })).items.length;

  before(async () => {
    policyDir = await mkdtemp(join(tmpdir(), 'tp-signal-policy-'));
    const policy = parseYaml(await readFile(join(repositoryRoot(), 'examples', 'policy.yaml'), 'utf8')) as {
      roles: Record<string, unknown>;
    };
    policy.roles['detectors'] = [{ id: DETECTOR }];
    const file = join(policyDir, 'policy.json');
    await writeFile(
      file,
      JSON.stringify({
        ...policy,
        anomaly_responses: {
          rules: [
            { name: 'injection', kinds: ['prompt_injection'], min_severity: 'high', response: 'revoke_task' },
            {
              name: 'compromise',
              kinds: ['risc.*'],
              min_severity: 'critical',
              response: 'quarantine_workload',
            },
          ],
        },
      }),
    );
    t = await startTestBroker({ policyFile: file });
    detector = ['--broker', t.url, '--jwt-svid', await t.jwt(DETECTOR)];
    agent = ['--broker', t.url, '--jwt-svid', await t.jwt(AGENT)];
    operator = ['--broker', t.url, '--jwt-svid', await t.jwt(DEV_WORKLOAD)];
  });
  after(async () => {
    await t?.stop();
    await rm(policyDir, { recursive: true, force: true });
  });

  it('a high prompt-injection signal about a task revokes the task and says so', async () => {
    const task = await startTask();
    const out = await json<{
      signal_id: string;
      response: string;
      rule: string;
      revocation: { tasks: string[] };
    }>([
      'signal',
      '--task',
      task,
      '--kind',
      'prompt_injection',
      '--severity',
      'high',
      '--description',
      'injected instructions in ticket 123',
      ...detector,
    ]);
    assert.deepEqual([out.response, out.rule, out.revocation.tasks], ['revoke_task', 'injection', [task]]);
    assert.equal((await json<{ status: string }>(['task', 'show', task, ...operator])).status, 'revoked');
    const events = await json<{
      events: { type: string; reason: string | null; details: { signal_id?: string } }[];
    }>(['audit', 'query', '--task', task, '--type', 'signal.received', ...operator]);
    assert.deepEqual(
      events.events.map((e) => [e.details.signal_id, e.reason]),
      [[out.signal_id, 'injected instructions in ticket 123']],
    );
  });

  it('a low signal about a workload is recorded only, with its evidence, and printed for people', async () => {
    const task = await startTask();
    const res = await runCliCaptured([
      'signal',
      '--workload',
      DEV_WORKLOAD,
      '--kind',
      'prompt_injection',
      '--severity',
      'low',
      '--evidence',
      '{"scanner":"pi-guard","score":0.3}',
      '--occurred-at',
      '2025-01-01T00:00:00Z',
      ...detector,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^response: record_only$/m);
    assert.match(res.stdout, /^rule: default$/m);
    const signalId = /^signal_id: (\S+)$/m.exec(res.stdout)?.[1];
    assert.equal((await json<{ status: string }>(['task', 'show', task, ...operator])).status, 'active');
    const events = await json<{ events: { details: Record<string, unknown> }[] }>([
      'audit',
      'query',
      '--workload',
      DEV_WORKLOAD,
      '--type',
      'signal.received',
      ...operator,
    ]);
    const row = events.events.find((e) => e.details['signal_id'] === signalId);
    assert.deepEqual(row?.details['evidence'], { scanner: 'pi-guard', score: 0.3 });
    assert.equal(row?.details['occurred_at'], '2025-01-01T00:00:00.000Z');
  });

  it('pushes a Security Event Token from a file (application/secevent+jwt)', async () => {
    const out = await json<{ kind: string; response: string }>([
      'signal',
      '--set',
      await setFile(),
      ...detector,
    ]);
    assert.deepEqual([out.kind, out.response], ['caep.session_revoked', 'record_only']);
    const workload = 'spiffe://taskpass.local/agents/compromised';
    const quarantined = await json<{ response: string; quarantine: { workload: string } }>([
      'signal',
      '--set',
      await setFile({ events: { [COMPROMISE]: {} }, sub_id: { format: 'uri', uri: workload } }),
      ...detector,
    ]);
    assert.deepEqual(
      [quarantined.response, quarantined.quarantine.workload],
      ['quarantine_workload', workload],
    );
  });

  const replayed = randomUUID();
  const refusals: readonly [name: string, args: () => Promise<string[]>, code: string][] = [
    [
      'a caller without the detector role',
      async () => ['signal', '--workload', AGENT, '--kind', 'x', '--severity', 'low', ...agent],
      'BROKER_POLICY_DENIED',
    ],
    [
      'a SET from a caller without the detector role',
      async () => ['signal', '--set', await setFile({ iss: AGENT }), ...agent],
      'BROKER_POLICY_DENIED',
    ],
    [
      'a SET that is not a JWS',
      async () => {
        const path = join(t.dir, 'garbage.jwt');
        await writeFile(path, 'not a token\n');
        return ['signal', '--set', path, ...detector];
      },
      'BROKER_SET_MALFORMED',
    ],
    [
      'a SET without jti',
      async () => ['signal', '--set', await setFile({ jti: null }), ...detector],
      'BROKER_SET_MALFORMED',
    ],
    [
      'a SET signed by a key outside the bundle',
      async () => {
        const keys = await createCaKeyStore(join(t.dir, 'data')).loadJwtKeys();
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return ['signal', '--set', await setFile({}, { kid: keys!.at(-1)!.kid, privateKey }), ...detector];
      },
      'BROKER_SET_INVALID_KEY',
    ],
    [
      'a SET whose iss is not the caller',
      async () => ['signal', '--set', await setFile({ iss: AGENT }), ...detector],
      'BROKER_SET_INVALID_ISSUER',
    ],
    [
      'a SET for another audience',
      async () => ['signal', '--set', await setFile({ aud: 'crm-api' }), ...detector],
      'BROKER_SET_INVALID_AUDIENCE',
    ],
    [
      'a replayed SET',
      async () => {
        const path = await setFile({ jti: replayed });
        assert.equal((await run(['signal', '--set', path, ...detector])).code, 0, 'first delivery');
        return ['signal', '--set', path, ...detector];
      },
      'BROKER_SET_REPLAYED',
    ],
    [
      'a SET file that cannot be read',
      async () => ['signal', '--set', join(t.dir, 'nope.jwt'), ...detector],
      'BROKER_CLI_FILE_UNREADABLE',
    ],
    [
      'a malformed kind',
      async () => ['signal', '--workload', AGENT, '--kind', 'Bad Kind', '--severity', 'low', ...detector],
      'BROKER_INPUT_INVALID',
    ],
    [
      'a reserved broker.* kind',
      async () => [
        'signal',
        '--workload',
        AGENT,
        '--kind',
        'broker.svid_replay',
        '--severity',
        'low',
        ...detector,
      ],
      'BROKER_INPUT_INVALID',
    ],
    [
      'a task id that is not a uuid',
      async () => ['signal', '--task', 'task-7', '--kind', 'x', '--severity', 'low', ...detector],
      'BROKER_INPUT_INVALID',
    ],
    [
      'a task that does not exist',
      async () => ['signal', '--task', randomUUID(), '--kind', 'x', '--severity', 'low', ...detector],
      'BROKER_TASK_NOT_FOUND',
    ],
    [
      'a workload that is not a SPIFFE ID',
      async () => [
        'signal',
        '--workload',
        'spiffe://taskpass.local/a/../b',
        '--kind',
        'x',
        '--severity',
        'low',
        ...detector,
      ],
      'SPIFFE_ID_DOT_SEGMENT',
    ],
    [
      'both --task and --workload',
      async () => [
        'signal',
        '--task',
        randomUUID(),
        '--workload',
        AGENT,
        '--kind',
        'x',
        '--severity',
        'low',
        ...detector,
      ],
      'BROKER_CLI_USAGE',
    ],
    [
      'no subject',
      async () => ['signal', '--kind', 'x', '--severity', 'low', ...detector],
      'BROKER_CLI_USAGE',
    ],
    [
      'no --kind',
      async () => ['signal', '--workload', AGENT, '--severity', 'low', ...detector],
      'BROKER_CLI_USAGE',
    ],
    [
      'no --severity',
      async () => ['signal', '--workload', AGENT, '--kind', 'x', ...detector],
      'BROKER_CLI_USAGE',
    ],
    [
      'an unknown --severity',
      async () => ['signal', '--workload', AGENT, '--kind', 'x', '--severity', 'dire', ...detector],
      'BROKER_CLI_USAGE',
    ],
    [
      '--evidence that is not JSON',
      async () => [
        'signal',
        '--workload',
        AGENT,
        '--kind',
        'x',
        '--severity',
        'low',
        '--evidence',
        '{oops',
        ...detector,
      ],
      'BROKER_CLI_USAGE',
    ],
    [
      '--evidence that is not an object',
      async () => [
        'signal',
        '--workload',
        AGENT,
        '--kind',
        'x',
        '--severity',
        'low',
        '--evidence',
        '[1,2]',
        ...detector,
      ],
      'BROKER_CLI_USAGE',
    ],
    [
      '--set with signal flags',
      async () => ['signal', '--set', await setFile(), '--kind', 'x', ...detector],
      'BROKER_CLI_USAGE',
    ],
  ];
  for (const [name, args, code] of refusals) {
    it(`refuses ${name}: ${code}, exit ${exitOf(code)}, nothing recorded`, async () => {
      const argv = await args();
      const before = await receivedSignals();
      const res = await run(argv);
      assert.equal((res.out['error'] as { code?: string } | undefined)?.code, code, res.stdout);
      assert.equal(res.code, exitOf(code));
      assert.equal(await receivedSignals(), before);
    });
  }
});
