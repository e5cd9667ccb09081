// The resource-server verifier end to end against an in-process broker over real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { createTaskTokenVerifier, type TaskTokenVerifier } from '../../verifier/index.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { DEV_WORKLOAD, startLiveBroker, TOOL, type LiveBroker } from '../support/live-broker.js';

describe('task token verifier against a running broker', { timeout: 60_000 }, () => {
  let broker: LiveBroker;
  const verifiers: TaskTokenVerifier[] = [];
  before(async () => {
    broker = await startLiveBroker();
  });
  after(async () => {
    for (const v of verifiers) v.close();
    await broker?.stop();
  });

  const verifier = (over: Partial<Parameters<typeof createTaskTokenVerifier>[0]> = {}) => {
    const v = createTaskTokenVerifier({
      brokerUrl: broker.url,
      audience: 'crm-api',
      issuer: broker.app.config.issuer,
      credentials: () => broker.svid(TOOL),
      clock: broker.clock,
      feedBackoffMs: { initial: 20, max: 200 },
      ...over,
    });
    verifiers.push(v);
    return v;
  };
  /** The seq of the task's end event, from the ledger. */
  const endSeq = async (taskId: string) => {
    const page = await broker.app.store.queryEvents({ taskId, types: ['task.completed'] });
    return String(page.items[0]!.seq);
  };

  it('accepts a live task token, then rejects it once the completed task reaches it on the feed', async () => {
    const v = verifier();
    await v.ready();
    const { taskId, token } = await broker.taskWithToken(['crm:read']);
    const ok = await v.verify(token);
    assert.equal(ok.taskId, taskId);
    assert.equal(ok.subject.toString(), DEV_WORKLOAD);
    assert.deepEqual(ok.scopes, ['crm:read']);
    assert.equal(v.status().connected, true);
    await broker.complete(taskId);
    await v.seen(await endSeq(taskId));
    await assert.rejects(v.verify(token), { code: 'BROKER_TOKEN_REVOKED' });
  });

  it('rejects one revoked credential by jti while its sibling stays valid', async () => {
    const v = verifier();
    await v.ready();
    const first = await broker.taskWithToken();
    const issued = await broker.http.inject({
      method: 'POST',
      url: `/v1/tasks/${first.taskId}/credentials`,
      headers: await broker.bearer(DEV_WORKLOAD),
      payload: { provider: 'crm-api', scopes: ['crm:read'] },
    });
    const sibling = issued.json<{ secret: string }>().secret;
    await broker.app.store.markCredentials({
      ids: [first.credentialId],
      outcome: 'revoked',
      reason: 'operator',
      now: broker.clock.now(),
    });
    const page = await broker.app.store.queryEvents({
      credentialId: first.credentialId,
      types: ['credential.revoked'],
    });
    await v.seen(String(page.items[0]!.seq));
    await assert.rejects(v.verify(first.token), { code: 'BROKER_TOKEN_REVOKED' });
    assert.equal((await v.verify(sibling)).taskId, first.taskId);
  });

  it('learns of revocations missed while disconnected, by resuming with Last-Event-ID', async () => {
    const v = verifier();
    await v.ready();
    const { taskId, token } = await broker.taskWithToken();
    const before = v.status().lastEventId;
    broker.http.server.closeAllConnections();
    await broker.complete(taskId);
    await v.seen(await endSeq(taskId));
    await assert.rejects(v.verify(token), { code: 'BROKER_TOKEN_REVOKED' });
    assert.ok(BigInt(v.status().lastEventId) > BigInt(before || '0'));
  });

  it('knows of revocations made before it started (the catch-up)', async () => {
    const { taskId, token } = await broker.taskWithToken();
    await broker.complete(taskId);
    const v = verifier();
    await v.ready();
    await assert.rejects(v.verify(token), { code: 'BROKER_TOKEN_REVOKED' });
  });

  it('refuses forged, expired, misdirected and malformed tokens with their codes', async () => {
    const v = verifier();
    await v.ready();
    const { token, taskId } = await broker.taskWithToken();
    const now = broker.clock.now();
    const key = await broker.app.keyring.signingKey('ES256', now);
    const iat = Math.floor(now.getTime() / 1000);
    const claims: JWTPayload = {
      iss: broker.app.config.issuer,
      sub: DEV_WORKLOAD,
      aud: 'crm-api',
      iat,
      nbf: iat,
      exp: iat + 300,
      jti: randomUUID(),
      scope: 'crm:read',
      task_id: taskId,
    };
    const sign = (payload: JWTPayload, header: Record<string, unknown> = {}, signer = key.privateKey) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...header })
        .sign(signer);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const [h, p] = token.split('.');
    const hmacHeader = b64({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' });
    const pem = JSON.stringify(key.publicJwk);
    const hmac = createHmac('sha256', pem).update(`${hmacHeader}.${p}`).digest('base64url');
    const without = (k: string) => Object.fromEntries(Object.entries(claims).filter(([n]) => n !== k));
    const cases: [string, string | Promise<string>, string][] = [
      ['not a jws', 'abc', 'BROKER_TOKEN_MALFORMED'],
      [
        'alg none',
        `${b64({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${p}.`,
        'BROKER_TOKEN_ALG_NOT_ALLOWED',
      ],
      ['hmac with the public key', `${hmacHeader}.${p}.${hmac}`, 'BROKER_TOKEN_ALG_NOT_ALLOWED'],
      ['signed by another key under our kid', sign(claims, {}, other), 'BROKER_TOKEN_BAD_SIGNATURE'],
      ['unknown kid', sign(claims, { kid: 'no-such-kid' }, other), 'BROKER_TOKEN_UNKNOWN_KID'],
      [
        'tampered payload',
        `${h}.${b64({ ...claims, scope: 'crm:write' })}.${token.split('.')[2]}`,
        'BROKER_TOKEN_BAD_SIGNATURE',
      ],
      ['typ JWT, not at+jwt', sign(claims, { typ: 'JWT' }), 'BROKER_TOKEN_MALFORMED'],
      ['expired', sign({ ...claims, exp: iat - 1 }), 'BROKER_TOKEN_EXPIRED'],
      ['not yet valid', sign({ ...claims, nbf: iat + 60 }), 'BROKER_TOKEN_NOT_YET_VALID'],
      ['issued in the future', sign({ ...claims, iat: iat + 60, nbf: iat }), 'BROKER_TOKEN_NOT_YET_VALID'],
      ['wrong audience', sign({ ...claims, aud: 'billing-api' }), 'BROKER_TOKEN_WRONG_AUDIENCE'],
      ['wrong issuer', sign({ ...claims, iss: 'https://evil.example' }), 'BROKER_TOKEN_WRONG_ISSUER'],
      ['no jti', sign(without('jti')), 'BROKER_TOKEN_MALFORMED'],
      ['no task_id', sign(without('task_id')), 'BROKER_TOKEN_MALFORMED'],
      ['sub not a spiffe id', sign({ ...claims, sub: 'alice' }), 'BROKER_TOKEN_MALFORMED'],
    ];
    for (const [name, t, code] of cases) {
      await assert.rejects(v.verify(await t), { code }, name);
    }
    assert.equal(
      (await v.verify(await sign(claims))).jti,
      claims.jti,
      'the unmodified forgery baseline is valid',
    );
  });

  it('rejects a real token for the wrong verifier audience or issuer, or once expired', async () => {
    const { token } = await broker.taskWithToken();
    const later = new FakeClock(new Date(broker.clock.now().getTime() + 3600_000));
    const cases: [string, Partial<Parameters<typeof createTaskTokenVerifier>[0]>, string][] = [
      ['audience', { audience: 'billing-api' }, 'BROKER_TOKEN_WRONG_AUDIENCE'],
      ['issuer', { issuer: 'https://other-broker.example' }, 'BROKER_TOKEN_WRONG_ISSUER'],
      ['algorithm not pinned', { algorithms: ['RS256'] }, 'BROKER_TOKEN_ALG_NOT_ALLOWED'],
      ['expired an hour later', { clock: later }, 'BROKER_TOKEN_EXPIRED'],
    ];
    for (const [name, over, code] of cases) {
      const v = verifier(over);
      await v.ready();
      await assert.rejects(v.verify(token), { code }, name);
    }
  });

  it('fails closed until it has caught up, and when the feed is silent or refused', async () => {
    const { token } = await broker.taskWithToken();
    const cases: [string, Partial<Parameters<typeof createTaskTokenVerifier>[0]>][] = [
      ['broker unreachable', { brokerUrl: 'http://127.0.0.1:9' }],
      [
        'caller without the resource-server role',
        { credentials: () => broker.svid('spiffe://taskpass.local/agents/demo') },
      ],
    ];
    for (const [name, over] of cases) {
      let failed!: () => void;
      const firstFailure = new Promise<void>((resolve) => (failed = resolve));
      const v = verifier({ ...over, onFeedError: () => failed() });
      await firstFailure;
      await assert.rejects(v.verify(token), { code: 'BROKER_VERIFIER_FEED_STALE' }, name);
      v.close();
    }
    const clock = new FakeClock(broker.clock.now());
    const v = verifier({ clock, maxStalenessMs: 1000 });
    await v.ready();
    assert.ok(await v.verify(token));
    clock.advance(60_000);
    await assert.rejects(v.verify(token), { code: 'BROKER_VERIFIER_FEED_STALE' }, 'silent for a minute');
  });
});
