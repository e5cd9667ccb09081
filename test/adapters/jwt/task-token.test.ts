import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { hashSecret } from '../../../adapters/credential-adapter.js';
import { verifyTaskToken } from '../../../adapters/jwt/verify-task-token.js';
import { ISSUER, T0, WORKLOAD, jwtSetup, minutes } from './support.js';

const T0_S = T0.getTime() / 1000;

describe('jwt adapter: task tokens', () => {
  it('signs a token whose header and claims are exactly the documented ones', async () => {
    const { keyring, issue } = await jwtSetup();
    const issued = await issue(T0, 300);
    const { kid } = await keyring.signingKey('ES256', T0);
    assert.deepEqual(decodeProtectedHeader(issued.secret), { alg: 'ES256', kid, typ: 'at+jwt' });
    const claims = decodeJwt(issued.secret);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(claims, {
      iss: ISSUER,
      sub: WORKLOAD.toString(),
      aud: 'crm-api',
      exp: T0_S + 300,
      iat: T0_S,
      nbf: T0_S,
      jti: claims.jti,
      scope: 'tickets:read crm:write',
      task_id: 'task-123',
      client_id: WORKLOAD.toString(),
    });
  });

  it('returns the handle {jti, kid, expiresAt}, the sha-256 of the token, and no renewal', async () => {
    const { keyring, issue } = await jwtSetup();
    const issued = await issue();
    const { kid } = await keyring.signingKey('ES256', T0);
    assert.deepEqual(issued.handle, {
      jti: decodeJwt(issued.secret).jti,
      kid,
      expiresAt: '2025-03-01T12:05:00.000Z',
    });
    assert.equal(issued.secretHash, hashSecret(issued.secret));
    assert.match(issued.secretHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(issued.renewable, false);
    assert.equal(issued.expiresAt.toISOString(), '2025-03-01T12:05:00.000Z');
  });

  it('rounds a sub-second now down, so exp never passes now + ttl', async () => {
    const { issue } = await jwtSetup();
    const now = new Date(T0.getTime() + 999);
    const issued = await issue(now, 60);
    assert.equal(decodeJwt(issued.secret).iat, T0_S);
    assert.ok(issued.expiresAt.getTime() <= now.getTime() + 60_000);
  });

  it('gives every token a new jti', async () => {
    const { issue } = await jwtSetup();
    const jtis = new Set(
      await Promise.all(Array.from({ length: 50 }, async () => (await issue()).handle.jti)),
    );
    assert.equal(jtis.size, 50);
  });

  const ttlCases: [string, Record<string, unknown>, { overlapSeconds?: number }, number, number][] = [
    ['the request when it is the smallest', { max_ttl: '1h' }, {}, 300, 300],
    ['max_ttl when the request is longer', { max_ttl: '10m' }, {}, 3600, 600],
    ['the key overlap when it is the smallest', { max_ttl: '1h' }, { overlapSeconds: 120 }, 3600, 120],
  ];
  for (const [name, raw, keyOpts, requested, expected] of ttlCases) {
    it(`caps the lifetime at ${name}`, async () => {
      const { issue } = await jwtSetup(keyOpts, raw);
      const issued = await issue(T0, requested);
      assert.equal(decodeJwt(issued.secret).exp, T0_S + expected);
    });
  }

  it('signs with the configured algorithm and verifies with the keyring JWKS', async () => {
    for (const algorithm of ['ES256', 'RS256', 'PS256'] as const) {
      const { keyring, issue } = await jwtSetup({ algorithms: [algorithm] }, { algorithm });
      const issued = await issue();
      assert.equal(decodeProtectedHeader(issued.secret).alg, algorithm);
      const result = await verifyTaskToken(issued.secret, {
        jwks: keyring.jwks(T0),
        algorithms: [algorithm],
        audience: 'crm-api',
        issuer: ISSUER,
        now: minutes(T0, 1),
      });
      assert.equal(result.ok, true, result.ok ? '' : result.code);
      if (result.ok) assert.deepEqual(result.token.scopes, ['tickets:read', 'crm:write']);
    }
  });

  it('refuses an algorithm the keyring keeps no key for, with a code', async () => {
    const { issue } = await jwtSetup({ algorithms: ['ES256'] }, { algorithm: 'RS256' });
    await assert.rejects(issue(), { code: 'BROKER_ADAPTER_BAD_REQUEST' });
  });

  it('revokes as a no-op and confirms through the broker revocation list', async () => {
    const { adapter, config, revoked, issue } = await jwtSetup();
    const { handle } = await issue();
    await adapter.revoke({ config, handle, now: T0 });
    assert.equal((await adapter.verifyRevoked({ config, handle, now: T0 })).confirmed, false);
    revoked.add(handle.jti);
    assert.equal((await adapter.verifyRevoked({ config, handle, now: T0 })).confirmed, true);
  });

  it('confirms an expired token as no longer working even when not revoked', async () => {
    const { adapter, config, issue } = await jwtSetup();
    const { handle } = await issue(T0, 60);
    assert.equal((await adapter.verifyRevoked({ config, handle, now: minutes(T0, 1) })).confirmed, true);
  });
});
