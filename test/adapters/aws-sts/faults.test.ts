import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { createAwsStsAdapters } from '../../../adapters/aws-sts/index.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { startAwsProxy, type AwsProxy, type Fault } from './support/aws-proxy.js';
import { ACCOUNT, BROKER_KEYS, NOW, baseConfig, createRole, iamClient } from './support/fixture.js';
import { requireMoto, startMoto, type MotoServer } from './support/moto.js';

const { skip } = requireMoto('aws-sts faults');
const WORKLOAD = SpiffeId.parse('spiffe://example.org/agents/summarizer');

let moto: MotoServer;
let proxy: AwsProxy;

function adapterWith(
  change: Record<string, unknown>,
  credentials: { accessKeyId: string; secretAccessKey: string } = BROKER_KEYS,
) {
  const adapter = createAwsStsAdapters({ clock: { now: () => NOW }, credentials }).revocable;
  const config = adapter.parseConfig({ ...baseConfig(proxy.endpoint), ...change });
  const issue = (extra: Record<string, unknown> = {}) =>
    adapter.issue({
      config,
      taskId: 'task-f',
      workload: WORKLOAD,
      scopes: ['tickets:read'],
      ttlSeconds: 900,
      now: NOW,
      ...extra,
    });
  return { adapter, config, issue };
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('aws-sts faults against moto', { skip }, () => {
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await proxy?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    await proxy?.close();
    await moto.setAuth(Infinity);
    await moto.reset();
    await createRole(moto.endpoint);
    proxy = await startAwsProxy(moto.endpoint);
  });

  it('an endpoint that is down: issue, revoke and verifyRevoked fail BACKEND_UNAVAILABLE', async () => {
    const { adapter, config, issue } = adapterWith({});
    const issued = await issue();
    const down = adapter.parseConfig({
      ...baseConfig(`http://127.0.0.1:${await closedPort()}`),
      max_attempts: 2,
    });
    const code = { code: 'BROKER_ADAPTER_BACKEND_UNAVAILABLE' };
    await assert.rejects(
      adapter.issue({
        config: down,
        taskId: 't',
        workload: WORKLOAD,
        scopes: ['tickets:read'],
        ttlSeconds: 900,
        now: NOW,
      }),
      code,
    );
    await assert.rejects(adapter.revoke({ config: down, handle: issued.handle, now: NOW }), code);
    await assert.rejects(adapter.verifyRevoked({ config: down, handle: issued.handle, now: NOW }), code);
    assert.equal((await adapter.verifyRevoked({ config, handle: issued.handle, now: NOW })).confirmed, false);
  });

  it(
    'a hung endpoint: every attempt times out and the call fails BACKEND_UNAVAILABLE',
    { timeout: 20_000 },
    async () => {
      const { issue } = adapterWith({ timeout: 1, max_attempts: 2 });
      proxy.failNext('AssumeRole', 'hang');
      proxy.failNext('AssumeRole', 'hang');
      await assert.rejects(issue(), { code: 'BROKER_ADAPTER_BACKEND_UNAVAILABLE' });
      assert.equal(proxy.calls.filter((c) => c.action === 'AssumeRole').length, 2);
    },
  );

  it(
    'throttling: retried by the sdk, and BACKEND_THROTTLED once the attempts are spent',
    { timeout: 20_000 },
    async () => {
      const { issue } = adapterWith({ max_attempts: 2 });
      const throttled: Fault = { status: 400, code: 'Throttling' };
      proxy.failNext('AssumeRole', throttled);
      const issued = await issue();
      assert.ok(issued.secret.length > 0);
      proxy.failNext('AssumeRole', throttled);
      proxy.failNext('AssumeRole', throttled);
      await assert.rejects(issue(), { code: 'BROKER_ADAPTER_BACKEND_THROTTLED' });
    },
  );

  const injected: [string, Fault, string][] = [
    ['PackedPolicyTooLarge', { status: 400, code: 'PackedPolicyTooLarge' }, 'BROKER_ADAPTER_BAD_REQUEST'],
    [
      'MalformedPolicyDocument',
      { status: 400, code: 'MalformedPolicyDocument' },
      'BROKER_ADAPTER_BAD_REQUEST',
    ],
    ['RegionDisabled', { status: 403, code: 'RegionDisabledException' }, 'BROKER_ADAPTER_BACKEND_REJECTED'],
    ['AccessDenied', { status: 403, code: 'AccessDenied' }, 'BROKER_ADAPTER_BACKEND_DENIED'],
    [
      'an expired broker session token',
      { status: 400, code: 'ExpiredToken' },
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    ['InternalFailure (500)', { status: 500, code: 'InternalFailure' }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  ];
  for (const [name, fault, code] of injected) {
    it(`sts answering ${name} fails ${code}`, async () => {
      const { issue } = adapterWith({});
      proxy.failNext('AssumeRole', fault);
      await assert.rejects(issue(), { code });
    });
  }

  it('moto with iam authorization on: keys of a user without permissions are AccessDenied → BACKEND_DENIED', async () => {
    const iam = iamClient(moto.endpoint);
    await iam.send(new CreateUserCommand({ UserName: 'powerless' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'powerless' }))).AccessKey!;
    const credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const { adapter, config, issue } = adapterWith({}, credentials);
    const unknown = adapterWith({}, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'y'.repeat(40) });
    await moto.setAuth(0);
    try {
      await assert.rejects(issue(), { code: 'BROKER_ADAPTER_BACKEND_DENIED' });
      await assert.rejects(unknown.issue(), { code: 'BROKER_ADAPTER_BACKEND_DENIED' });
      const handle = {
        role_arn: config.roleArn,
        session_name: 'tp-x-0000000000000000',
        task_id: 'task-f',
        expires_at: 4102444800,
      };
      await assert.rejects(adapter.revoke({ config, handle, now: NOW }), {
        code: 'BROKER_ADAPTER_BACKEND_DENIED',
      });
    } finally {
      await moto.setAuth(Infinity);
    }
  });

  it('a role arn that is malformed is refused at configuration; a missing role fails revocation', async () => {
    const { adapter } = adapterWith({});
    for (const role_arn of ['arn:aws:iam::123:role/x', `arn:aws:iam::${ACCOUNT}:user/reports`, 'reports']) {
      assert.throws(() => adapter.parseConfig({ ...baseConfig(proxy.endpoint), role_arn }), {
        code: 'BROKER_ADAPTER_BAD_CONFIG',
      });
    }
    // moto issues sessions for roles it does not know (AWS answers AccessDenied); IAM knows better.
    const missing = adapterWith({ role_arn: `arn:aws:iam::${ACCOUNT}:role/absent` });
    const issued = await missing.issue();
    await assert.rejects(
      missing.adapter.revoke({ config: missing.config, handle: issued.handle, now: NOW }),
      {
        code: 'BROKER_ADAPTER_BACKEND_REJECTED',
      },
    );
  });

  it('requests the provider cannot express fail BAD_REQUEST without calling aws', async () => {
    const wide = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `scope${i}`,
        { actions: [`s3:GetObject`], resources: [`arn:aws:s3:::bucket-number-${i}/some/long/prefix/*`] },
      ]),
    );
    const { issue } = adapterWith({ scopes: { ...(baseConfig('http://x')['scopes'] as object), ...wide } });
    const cases: [string, Record<string, unknown>][] = [
      ['an unknown scope', { scopes: ['billing:read'] }],
      ['a ttl under 900 s (short_ttl refuse)', { ttlSeconds: 600 }],
      ['a session policy over 2048 characters', { scopes: Object.keys(wide) }],
    ];
    for (const [name, extra] of cases) {
      await assert.rejects(issue(extra), { code: 'BROKER_ADAPTER_BAD_REQUEST' }, name);
    }
    assert.equal(proxy.calls.length, 0);
  });
});
