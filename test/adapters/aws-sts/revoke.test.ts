import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { decodeJwt } from 'jose';
import { createAwsStsAdapters, createKeyringWebIdentitySigner } from '../../../adapters/aws-sts/index.js';
import type { AwsStsConfig } from '../../../adapters/aws-sts/config.js';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { startAwsProxy, type AwsProxy } from './support/aws-proxy.js';
import {
  ACCOUNT,
  BROKER_KEYS,
  NOW,
  baseConfig,
  createRole,
  iamClient,
  rolePolicy,
} from './support/fixture.js';
import { requireMoto, startMoto, type MotoServer } from './support/moto.js';

const { skip } = requireMoto('aws-sts revoke');
const WORKLOAD = SpiffeId.parse('spiffe://example.org/agents/summarizer');
const TASK_A = 'task-a';
const TASK_B = 'task-b';

let moto: MotoServer;
let proxy: AwsProxy;

function setup(change: Record<string, unknown> = {}) {
  const adapter = createAwsStsAdapters({ clock: { now: () => NOW }, credentials: BROKER_KEYS }).revocable;
  const config = adapter.parseConfig({ ...baseConfig(proxy.endpoint), ...change });
  const issue = (taskId: string, ttlSeconds = 900) =>
    adapter.issue({ config, taskId, workload: WORKLOAD, scopes: ['tickets:read'], ttlSeconds, now: NOW });
  return { adapter, config, issue };
}

const calls = (action: string) => proxy.calls.filter((c) => c.action === action).length;

describe('aws-sts revocation by deny policy against moto', { skip }, () => {
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await proxy?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    await proxy?.close();
    await moto.reset();
    await createRole(moto.endpoint);
    proxy = await startAwsProxy(moto.endpoint);
  });

  it('puts a deny on the role conditioned on the task tag and the session tag, with its cleanup time', async () => {
    const { adapter, config, issue } = setup();
    const issued = await issue(TASK_A);
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    assert.deepEqual(await rolePolicy(moto.endpoint, 'taskpass-revoke-task-a'), {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: `TaskpassRevokeUntil${issued.handle.expires_at + 300}`,
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: {
              'aws:PrincipalTag/taskpass:task_id': TASK_A,
              'aws:PrincipalTag/taskpass:session': issued.handle.session_name,
            },
          },
        },
      ],
    });
    const check = await adapter.verifyRevoked({ config, handle: issued.handle, now: NOW });
    assert.equal(check.confirmed, true, check.detail);
  });

  it("lists every revoked session of a task in that task's one policy, and keeps tasks apart", async () => {
    const { adapter, config, issue } = setup();
    const [a1, a2, a3, b1] = await Promise.all([issue(TASK_A), issue(TASK_A), issue(TASK_A), issue(TASK_B)]);
    // Concurrent revocations of one task's sessions: serialized, none lost.
    await Promise.all([a1, a2, a3].map((c) => adapter.revoke({ config, handle: c!.handle, now: NOW })));
    const policy = await rolePolicy(moto.endpoint, 'taskpass-revoke-task-a');
    const condition = (
      policy?.['Statement'] as { Condition: { StringEquals: Record<string, unknown> } }[]
    )[0]!.Condition.StringEquals;
    assert.deepEqual(
      condition['aws:PrincipalTag/taskpass:session'],
      [a1, a2, a3].map((c) => c!.handle.session_name).sort(),
    );
    assert.equal(await rolePolicy(moto.endpoint, 'taskpass-revoke-task-b'), undefined);
    const other = await adapter.verifyRevoked({ config, handle: b1!.handle, now: NOW });
    assert.equal(other.confirmed, false, other.detail);
  });

  it('revokes idempotently: a second revoke only reads', async () => {
    const { adapter, config, issue } = setup();
    const issued = await issue(TASK_A);
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    const puts = calls('PutRolePolicy');
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    assert.equal(puts, 1);
    assert.equal(calls('PutRolePolicy'), 1);
  });

  it('does nothing at aws for a session that has already expired, and confirms it', async () => {
    const { adapter, config, issue } = setup();
    const issued = await issue(TASK_A);
    const later = new Date((issued.handle.expires_at + 301) * 1000);
    const before = proxy.calls.length;
    await adapter.revoke({ config, handle: issued.handle, now: later });
    assert.equal(proxy.calls.length, before);
    const check = await adapter.verifyRevoked({ config, handle: issued.handle, now: later });
    assert.equal(check.confirmed, true, check.detail);
  });

  it('cleans up only the denies whose sessions have all expired, leaving foreign policies alone', async () => {
    const { adapter, config, issue } = setup();
    const short = await issue(TASK_A, 900);
    const long = await issue(TASK_B, 3600);
    await adapter.revoke({ config, handle: short.handle, now: NOW });
    await adapter.revoke({ config, handle: long.handle, now: NOW });
    const foreign = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }],
    });
    for (const name of ['taskpass-revoke-by-hand', 'operator-policy']) {
      await iamClient(moto.endpoint).send(
        new PutRolePolicyCommand({ RoleName: 'reports', PolicyName: name, PolicyDocument: foreign }),
      );
    }
    const early = await adapter.cleanupExpiredDenies(config, new Date(short.handle.expires_at * 1000));
    assert.deepEqual(early, {
      deleted: [],
      kept: ['taskpass-revoke-task-a', 'taskpass-revoke-task-b'],
      foreign: ['taskpass-revoke-by-hand'],
    });
    const between = new Date((short.handle.expires_at + 300) * 1000);
    const report = await adapter.cleanupExpiredDenies(config, between);
    assert.deepEqual(report.deleted, ['taskpass-revoke-task-a']);
    assert.deepEqual(report.kept, ['taskpass-revoke-task-b']);
    assert.equal(await rolePolicy(moto.endpoint, 'taskpass-revoke-task-a'), undefined);
    assert.notEqual(await rolePolicy(moto.endpoint, 'taskpass-revoke-by-hand'), undefined);
    assert.notEqual(await rolePolicy(moto.endpoint, 'operator-policy'), undefined);
    // Cleanup is idempotent.
    assert.deepEqual((await adapter.cleanupExpiredDenies(config, between)).deleted, []);
  });

  it("frees room by cleaning up expired denies when iam refuses a deny for the role's quota", async () => {
    const { adapter, config, issue } = setup();
    const old = await issue(TASK_B);
    await adapter.revoke({ config, handle: old.handle, now: NOW });
    const fresh = await issue(TASK_A, 3600);
    const later = new Date((old.handle.expires_at + 300) * 1000);
    proxy.failNext('PutRolePolicy', { status: 409, code: 'LimitExceeded' });
    await adapter.revoke({ config, handle: fresh.handle, now: later });
    assert.equal(await rolePolicy(moto.endpoint, 'taskpass-revoke-task-b'), undefined);
    assert.notEqual(await rolePolicy(moto.endpoint, 'taskpass-revoke-task-a'), undefined);
  });

  it('refuses to overwrite a policy by the deny name that is not a taskpass deny', async () => {
    const { adapter, config, issue } = setup();
    const issued = await issue(TASK_A);
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    });
    await iamClient(moto.endpoint).send(
      new PutRolePolicyCommand({
        RoleName: 'reports',
        PolicyName: 'taskpass-revoke-task-a',
        PolicyDocument: document,
      }),
    );
    await assert.rejects(adapter.revoke({ config, handle: issued.handle, now: NOW }), {
      code: 'BROKER_ADAPTER_BACKEND_REJECTED',
    });
    const check = await adapter.verifyRevoked({ config, handle: issued.handle, now: NOW });
    assert.equal(check.confirmed, false, check.detail);
  });

  it('web identity: edits the role through the manager session, assumed with the broker subject', async () => {
    const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: NOW });
    const signer = createKeyringWebIdentitySigner({ keyring, issuer: 'https://broker.example.org' });
    const adapter = createAwsStsAdapters({ clock: { now: () => NOW }, webIdentityToken: signer }).revocable;
    const manager = `arn:aws:iam::${ACCOUNT}:role/taskpass-manager`;
    const config: AwsStsConfig = adapter.parseConfig({
      ...baseConfig(proxy.endpoint),
      auth: { mode: 'web-identity', manager_role_arn: manager, manager_subject: 'broker.example.org' },
    });
    const issued = await adapter.issue({
      config,
      taskId: TASK_A,
      workload: WORKLOAD,
      scopes: ['tickets:read'],
      ttlSeconds: 900,
      now: NOW,
    });
    await adapter.revoke({ config, handle: issued.handle, now: NOW });
    const managerCalls = proxy.calls.filter(
      (c) => c.action === 'AssumeRoleWithWebIdentity' && c.params.get('RoleArn') === manager,
    );
    assert.equal(managerCalls.length, 1);
    assert.equal(managerCalls[0]!.params.get('Policy'), null);
    assert.equal(decodeJwt(managerCalls[0]!.params.get('WebIdentityToken')!).sub, 'broker.example.org');
    assert.equal((await adapter.verifyRevoked({ config, handle: issued.handle, now: NOW })).confirmed, true);
  });
});
