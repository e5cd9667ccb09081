import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createAwsStsAdapters, createKeyringWebIdentitySigner } from '../../../adapters/aws-sts/index.js';
import { buildSessionPolicy } from '../../../adapters/aws-sts/session-policy.js';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { startAwsProxy, type AwsProxy } from './support/aws-proxy.js';
import {
  ACCOUNT,
  BROKER_KEYS,
  NOW,
  baseConfig,
  callerIdentity,
  createRole,
  fakeClock,
} from './support/fixture.js';
import { requireMoto, startMoto, type MotoServer } from './support/moto.js';

const { skip } = requireMoto('aws-sts issue');
const WORKLOAD = SpiffeId.parse('spiffe://example.org/agents/summarizer');
const TASK = '7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';

let moto: MotoServer;
let proxy: AwsProxy;

function keysAdapter() {
  return createAwsStsAdapters({ clock: fakeClock(), credentials: BROKER_KEYS }).revocable;
}

function request<C>(config: C, change: Record<string, unknown> = {}) {
  return {
    config,
    taskId: TASK,
    workload: WORKLOAD,
    scopes: ['s3:read:reports'],
    ttlSeconds: 1200,
    now: NOW,
    ...change,
  };
}

const assumeCalls = () =>
  proxy.calls.filter((c) => c.action === 'AssumeRole' || c.action === 'AssumeRoleWithWebIdentity');

describe('aws-sts issue against moto', { skip }, () => {
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

  it('returns working credentials in credential_process form: GetCallerIdentity answers as the session', async () => {
    const adapter = keysAdapter();
    const issued = await adapter.issue(request(adapter.parseConfig(baseConfig(proxy.endpoint))));
    const secret = JSON.parse(issued.secret) as Record<string, unknown>;
    assert.deepEqual(Object.keys(secret), [
      'Version',
      'AccessKeyId',
      'SecretAccessKey',
      'SessionToken',
      'Expiration',
    ]);
    assert.equal(secret['Version'], 1);
    assert.ok(!Number.isNaN(Date.parse(String(secret['Expiration']))));
    const who = await callerIdentity(moto.endpoint, issued.secret);
    assert.equal(who.Account, ACCOUNT);
    assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/reports/${issued.handle.session_name}`);
    assert.equal(issued.renewable, false);
  });

  it('sends the session name, the three session tags, the source identity, no transitive tag and the ttl', async () => {
    const adapter = keysAdapter();
    const issued = await adapter.issue(request(adapter.parseConfig(baseConfig(proxy.endpoint))));
    const [call] = assumeCalls();
    const p = call!.params;
    assert.match(p.get('RoleSessionName')!, /^tp-7f1c2d3e-[0-9a-f]{16}$/);
    assert.equal(p.get('RoleSessionName'), issued.handle.session_name);
    const tags = new Map(
      [1, 2, 3].map((i) => [p.get(`Tags.member.${i}.Key`), p.get(`Tags.member.${i}.Value`)]),
    );
    assert.deepEqual(
      tags,
      new Map([
        ['taskpass:task_id', TASK],
        ['taskpass:workload', 'spiffe://example.org/agents/summarizer'],
        ['taskpass:session', issued.handle.session_name],
      ]),
    );
    assert.equal(p.get('Tags.member.4.Key'), null);
    assert.equal(p.get('SourceIdentity'), 'example.org,agents,summarizer');
    assert.equal([...p.keys()].filter((k) => k.startsWith('TransitiveTagKeys')).length, 0);
    assert.equal(p.get('DurationSeconds'), '1200');
    assert.equal(p.get('RoleArn'), `arn:aws:iam::${ACCOUNT}:role/reports`);
  });

  it('passes exactly the session policy built from the granted scopes, and moto keeps it', async () => {
    const adapter = keysAdapter();
    const config = adapter.parseConfig(baseConfig(proxy.endpoint));
    const scopes = ['tickets:read', 's3:read:reports'];
    const issued = await adapter.issue(request(config, { scopes }));
    const expected = buildSessionPolicy(config.scopes, scopes);
    assert.equal(assumeCalls()[0]!.params.get('Policy'), expected);
    // moto records the session policy of each assumed role (it keeps neither tags nor source identity).
    const sessions = (await moto.data())['sts']?.['AssumedRole'] ?? [];
    const session = sessions.find((s) => s['session_name'] === issued.handle.session_name);
    assert.equal(session?.['policy'], expected);
  });

  it('shortens a ttl above max_ttl to it and reports the shorter expiry', async () => {
    const adapter = keysAdapter();
    const config = adapter.parseConfig({ ...baseConfig(proxy.endpoint), max_ttl: '1h' });
    const issued = await adapter.issue(request(config, { ttlSeconds: 7200 }));
    assert.equal(assumeCalls()[0]!.params.get('DurationSeconds'), '3600');
    assert.equal(issued.expiresAt.getTime(), NOW.getTime() + 3600_000);
    assert.equal(issued.ttlRoundedUp, undefined);
  });

  it('refuses a ttl under 900 s with short_ttl refuse, before calling sts', async () => {
    const adapter = keysAdapter();
    const config = adapter.parseConfig(baseConfig(proxy.endpoint));
    await assert.rejects(adapter.issue(request(config, { ttlSeconds: 899 })), {
      code: 'BROKER_ADAPTER_BAD_REQUEST',
    });
    assert.equal(assumeCalls().length, 0);
  });

  it('rounds a ttl under 900 s up with short_ttl round_up, and declares it', async () => {
    const adapter = keysAdapter();
    const config = adapter.parseConfig({ ...baseConfig(proxy.endpoint), short_ttl: 'round_up' });
    const issued = await adapter.issue(request(config, { ttlSeconds: 300 }));
    assert.equal(assumeCalls()[0]!.params.get('DurationSeconds'), '900');
    assert.equal(issued.expiresAt.getTime(), NOW.getTime() + 900_000);
    assert.deepEqual(issued.ttlRoundedUp, { requestedSeconds: 300, minimumSeconds: 900 });
  });

  it('refuses a scope the provider does not map, and an empty grant, before calling sts', async () => {
    const adapter = keysAdapter();
    const config = adapter.parseConfig(baseConfig(proxy.endpoint));
    for (const scopes of [['s3:write:reports'], ['tickets:read', 'ec2:all'], []]) {
      await assert.rejects(adapter.issue(request(config, { scopes })), {
        code: 'BROKER_ADAPTER_BAD_REQUEST',
      });
    }
    assert.equal(assumeCalls().length, 0);
  });

  it('web identity: presents a broker-signed token carrying sub, aud, tags and source identity', async () => {
    const keyring = await TaskTokenKeyring.open({ store: createMemoryTaskTokenKeyStore(), now: NOW });
    const signer = createKeyringWebIdentitySigner({ keyring, issuer: 'https://broker.example.org' });
    const adapter = createAwsStsAdapters({ clock: fakeClock(), webIdentityToken: signer }).expiresOnly;
    const raw = { ...baseConfig(proxy.endpoint), revocation: 'none', auth: { mode: 'web-identity' } };
    const issued = await adapter.issue(request(adapter.parseConfig(raw)));
    const [call] = assumeCalls();
    assert.equal(call!.action, 'AssumeRoleWithWebIdentity');
    assert.equal(call!.params.get('RoleSessionName'), issued.handle.session_name);
    assert.equal(call!.params.get('Tags.member.1.Key'), null);
    // moto accepts any token without checking its signature; the claims are checked here instead.
    const { payload, protectedHeader } = await jwtVerify(
      call!.params.get('WebIdentityToken')!,
      createLocalJWKSet(keyring.jwks(NOW) as never),
      {
        issuer: 'https://broker.example.org',
        audience: 'sts.amazonaws.com',
        currentDate: NOW,
        algorithms: ['ES256'],
      },
    );
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(payload.sub, WORKLOAD.toString());
    assert.deepEqual(payload['https://aws.amazon.com/tags'], {
      principal_tags: {
        'taskpass:task_id': [TASK],
        'taskpass:workload': [WORKLOAD.toString()],
        'taskpass:session': [issued.handle.session_name],
      },
    });
    assert.equal(payload['https://aws.amazon.com/source_identity'], 'example.org,agents,summarizer');
    const who = await callerIdentity(moto.endpoint, issued.secret);
    assert.match(who.Arn ?? '', new RegExp(`assumed-role/reports/${issued.handle.session_name}$`));
  });
});
