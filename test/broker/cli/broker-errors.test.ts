// Every way a broker command can fail prints one coded error and exits with the catalog's status:
// refused locally (usage, identity, files) or by the broker (policy, not found), or no answer at all.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCliCaptured } from '../../support/run-cli.js';
import { AGENT, DEV_WORKLOAD, startTestBroker, type TestBroker } from '../../support/running-broker.js';

interface Case {
  readonly name: string;
  readonly args: () => string[];
  readonly env?: () => Record<string, string>;
  readonly code: string;
  readonly exit: number;
}

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('broker command errors', { timeout: 180_000 }, () => {
  let t: TestBroker;
  let dev: string[];
  let agent: string[];
  let closed: string;
  let taskId: string;

  before(async () => {
    t = await startTestBroker();
    dev = ['--broker', t.url, '--jwt-svid', await t.jwt(DEV_WORKLOAD)];
    agent = ['--broker', t.url, '--jwt-svid', await t.jwt(AGENT)];
    closed = await closedPortUrl();
    const out = await runCliCaptured([
      'task',
      'start',
      '--intent',
      'summarize-ticket',
      '--manifest',
      'crm-api:crm:read',
      '--json',
      ...dev,
    ]);
    taskId = (JSON.parse(out.stdout) as { id: string }).id;
  });
  after(() => t.stop());

  const start = ['task', 'start', '--intent', 'summarize-ticket'];
  const cases: Case[] = [
    // Identity
    {
      name: 'no identity at all',
      args: () => ['tasks', 'ls', '--broker', t.url],
      code: 'BROKER_AUTH_MISSING',
      exit: 1,
    },
    {
      name: '--jwt-svid and --cert',
      args: () => ['tasks', 'ls', ...dev, '--cert', 'c', '--key', 'k'],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--cert without --key',
      args: () => ['tasks', 'ls', '--broker', t.url, '--cert', 'c'],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'unreadable --jwt-svid file',
      args: () => ['tasks', 'ls', '--broker', t.url, '--jwt-svid', join(t.dir, 'nope')],
      code: 'BROKER_CLI_FILE_UNREADABLE',
      exit: 2,
    },
    {
      name: 'no Workload API at --socket',
      args: () => ['tasks', 'ls', '--broker', t.url, '--socket', join(t.dir, 'none.sock')],
      code: 'SPIFFE_WORKLOAD_UNAVAILABLE',
      exit: 1,
    },
    {
      name: 'SVID for another --audience',
      args: () => ['tasks', 'ls', '--broker', t.url, '--audience', 'crm-api'],
      env: () => ({ SPIFFE_ENDPOINT_SOCKET: t.socket }),
      code: 'BROKER_AUTH_INVALID',
      exit: 1,
    },
    {
      name: 'an https --ca with an http broker',
      args: () => ['tasks', 'ls', ...dev, '--ca', t.bundlePem],
      code: 'BROKER_CONFIG_INVALID',
      exit: 2,
    },
    {
      name: '--broker-id without --ca',
      args: () => ['tasks', 'ls', ...dev, '--broker-id', DEV_WORKLOAD],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    // The broker
    {
      name: 'unreachable broker',
      args: () => ['tasks', 'ls', '--broker', closed, '--jwt-svid', dev[3]!],
      code: 'BROKER_CLIENT_UNREACHABLE',
      exit: 1,
    },
    {
      name: 'bearer over plain http off loopback',
      args: () => ['tasks', 'ls', '--broker', 'http://broker.invalid', '--jwt-svid', dev[3]!],
      code: 'BROKER_CONFIG_INVALID',
      exit: 2,
    },
    {
      name: 'not a url',
      args: () => ['tasks', 'ls', '--broker', 'nope', '--jwt-svid', dev[3]!],
      code: 'BROKER_CONFIG_INVALID',
      exit: 2,
    },
    // Syntax of the flags
    {
      name: '--manifest without a colon',
      args: () => [...start, '--manifest', 'crm-api', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--manifest with an empty scope',
      args: () => [...start, '--manifest', 'crm-api:crm:read,,x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--manifest with a bad provider',
      args: () => [...start, '--manifest', 'crm api:crm:read', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'bad --ttl',
      args: () => [...start, '--manifest', 'crm-api:crm:read', '--ttl', '5x', ...dev],
      code: 'BROKER_INPUT_BAD_DURATION',
      exit: 2,
    },
    { name: 'missing --intent', args: () => ['task', 'start', ...dev], code: 'BROKER_CLI_USAGE', exit: 2 },
    {
      name: 'unknown --selector key',
      args: () => ['revoke', '--selector', 'team=red', '--reason', 'x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--selector without =',
      args: () => ['revoke', '--selector', 'prefix', '--reason', 'x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--selector started_before not RFC 3339',
      args: () => ['revoke', '--selector', 'started_before=yesterday', '--reason', 'x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: '--selector bad trust domain',
      args: () => ['revoke', '--selector', 'trust_domain=Bad!', '--reason', 'x', ...dev],
      code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
      exit: 1,
    },
    {
      name: 'revoke without a target',
      args: () => ['revoke', '--reason', 'x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'revoke with two targets',
      args: () => ['revoke', '--task', 'a', '--credential', 'b', '--reason', 'x', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'revoke without --reason',
      args: () => ['revoke', '--task', 'a', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'revoke --retry-failed with a target',
      args: () => ['revoke', '--retry-failed', '--task', 'a', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'revoke --workload not a SPIFFE ID',
      args: () => ['revoke', '--workload', 'agent-7', '--reason', 'x', ...dev],
      code: 'SPIFFE_ID_WRONG_SCHEME',
      exit: 1,
    },
    {
      name: 'quarantine not a SPIFFE ID',
      args: () => ['quarantine', 'spiffe://td/a/../b', '--reason', 'x', ...dev],
      code: 'SPIFFE_ID_DOT_SEGMENT',
      exit: 1,
    },
    {
      name: 'quarantine without --reason',
      args: () => ['quarantine', AGENT, ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'tasks ls --status unknown',
      args: () => ['tasks', 'ls', '--status', 'sleeping', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'tasks ls --limit 0',
      args: () => ['tasks', 'ls', '--limit', '0', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    {
      name: 'audit query --format xml',
      args: () => ['audit', 'query', '--format', 'xml', ...dev],
      code: 'BROKER_CLI_USAGE',
      exit: 2,
    },
    // Refused by the broker, code unchanged
    {
      name: 'non-operator runs tasks ls',
      args: () => ['tasks', 'ls', ...agent],
      code: 'BROKER_POLICY_DENIED',
      exit: 1,
    },
    {
      name: 'non-auditor runs audit verify',
      args: () => ['audit', 'verify', ...agent],
      code: 'BROKER_POLICY_DENIED',
      exit: 1,
    },
    {
      name: 'unknown task',
      args: () => ['task', 'show', 'no-such-task', ...dev],
      code: 'BROKER_TASK_NOT_FOUND',
      exit: 1,
    },
    {
      name: "another workload's task",
      args: () => ['task', 'complete', taskId, ...agent],
      code: 'BROKER_TASK_NOT_FOUND',
      exit: 1,
    },
    {
      name: 'intent the policy does not know',
      args: () => ['task', 'start', '--intent', 'exfiltrate', '--manifest', 'crm-api:crm:read', ...dev],
      code: 'BROKER_POLICY_DENIED',
      exit: 1,
    },
    {
      name: 'scope outside the manifest',
      args: () => [
        'credential',
        'issue',
        '--task',
        taskId,
        '--provider',
        'crm-api',
        '--scope',
        'crm:admin',
        ...dev,
      ],
      code: 'BROKER_POLICY_DENIED',
      exit: 1,
    },
    {
      name: 'unknown event type',
      args: () => ['audit', 'query', '--type', 'task.nope', ...dev],
      code: 'BROKER_INPUT_INVALID',
      exit: 2,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.code}, exit ${c.exit}`, async () => {
      const env = c.env?.() ?? {};
      const json = await runCliCaptured([...c.args(), '--json'], { env });
      assert.equal(JSON.parse(json.stdout).error.code, c.code, json.stdout + json.stderr);
      assert.equal(json.code, c.exit);
      // Without --json: one line on stderr naming the code, nothing on stdout.
      const human = await runCliCaptured(c.args(), { env });
      assert.equal(human.code, c.exit);
      assert.equal(human.stdout, '');
      assert.ok(
        human.stderr.startsWith(`taskpass: ${c.code}: `) || c.code === 'BROKER_CLI_USAGE',
        human.stderr,
      );
      assert.ok(!human.stderr.includes(dev[3]!), 'the SVID is never printed');
    });
  }
});
