import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { createDevCa, type DevCa } from '../../../spiffe/ca/index.js';
import { isSpiffeError, type SpiffeErrorCode } from '../../../spiffe/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';

const td = TrustDomain.parse('example.org');
const workload = SpiffeId.parse('spiffe://example.org/ns/prod/sa/agent');
const t0 = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => t0 };
const iat0 = t0.getTime() / 1000;

function rejectsWith(code: SpiffeErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isSpiffeError(err), `expected a SpiffeError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

/** Verifies `token` with the bundle key named by its kid, pinning `alg` (never the header's choice). */
async function verifyWithBundle(ca: DevCa, token: string, alg: string, audience = 'broker') {
  const { kid } = decodeProtectedHeader(token);
  assert.ok(kid);
  const jwk = ca.bundle().jwtAuthorities.get(kid) as JWK;
  assert.ok(jwk, 'kid is in the bundle');
  const key = await importJWK(jwk, alg);
  return jwtVerify(token, key, { algorithms: [alg], audience, currentDate: t0 });
}

describe('DevCa.mintJwtSvid (JWT-SVID spec §2–§3)', async () => {
  for (const alg of ['ES256', 'RS256', 'PS256'] as const) {
    it(`signs with ${alg} and verifies against the bundle's JWK`, async () => {
      const ca = await createDevCa({ trustDomain: td, clock, jwtAlgorithm: alg });
      const svid = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker'] });
      const { payload, protectedHeader } = await verifyWithBundle(ca, svid.token, alg);
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.typ, 'JWT');
      assert.equal(payload.sub, workload.toString());
    });
  }

  it('defaults to ES256, typ JWT, a kid, and sub/aud/iat/exp with a five-minute ttl', async () => {
    const ca = await createDevCa({ trustDomain: td, clock });
    const svid = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker', 'crm-api'] });
    const header = decodeProtectedHeader(svid.token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'ES256');
    const { payload } = await verifyWithBundle(ca, svid.token, 'ES256');
    assert.deepEqual(payload, {
      sub: workload.toString(),
      aud: ['broker', 'crm-api'],
      iat: iat0,
      exp: iat0 + 300,
    });
    assert.ok(svid.id.equals(workload));
    assert.deepEqual(svid.audience, ['broker', 'crm-api']);
    assert.equal(svid.expiresAt.getTime(), (iat0 + 300) * 1000);
  });

  it('keeps aud an array for a single audience', async () => {
    const ca = await createDevCa({ trustDomain: td, clock });
    const svid = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker'] });
    const { payload } = await verifyWithBundle(ca, svid.token, 'ES256');
    assert.deepEqual(payload.aud, ['broker']);
  });

  it('adds extra claims without letting them override sub, aud, exp or iat', async () => {
    const ca = await createDevCa({ trustDomain: td, clock });
    const extraClaims = { task_id: 't-1', sub: 'spiffe://example.org/evil', aud: ['x'], exp: 1, iat: 1 };
    const svid = await ca.mintJwtSvid({
      id: workload,
      now: t0,
      audience: ['broker'],
      ttlSeconds: 60,
      extraClaims,
    });
    const { payload } = await verifyWithBundle(ca, svid.token, 'ES256');
    assert.equal(payload.task_id, 't-1');
    assert.equal(payload.sub, workload.toString());
    assert.deepEqual(payload.aud, ['broker']);
    assert.equal(payload.iat, iat0);
    assert.equal(payload.exp, iat0 + 60);
  });

  it('caps the ttl at maxTtlSeconds', async () => {
    const ca = await createDevCa({ trustDomain: td, clock, maxTtlSeconds: 120 });
    const svid = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker'], ttlSeconds: 3600 });
    assert.equal(svid.expiresAt.getTime(), (iat0 + 120) * 1000);
  });

  it('publishes public keys only, with their kid', async () => {
    const ca = await createDevCa({ trustDomain: td, clock, jwtAlgorithm: 'RS256' });
    for (const [kid, jwk] of ca.bundle().jwtAuthorities) {
      assert.equal(jwk.kid, kid);
      assert.equal(jwk.d, undefined);
      assert.equal(jwk.p, undefined);
    }
  });

  const cases: { name: string; opts: Parameters<DevCa['mintJwtSvid']>[0]; code: SpiffeErrorCode }[] = [
    {
      name: 'an id of another trust domain',
      opts: { id: SpiffeId.parse('spiffe://other.org/w'), now: t0, audience: ['a'] },
      code: 'SPIFFE_CA_FOREIGN_TRUST_DOMAIN',
    },
    {
      name: 'a zero ttl',
      opts: { id: workload, now: t0, audience: ['a'], ttlSeconds: 0 },
      code: 'SPIFFE_CA_BAD_TTL',
    },
    {
      name: 'a fractional ttl',
      opts: { id: workload, now: t0, audience: ['a'], ttlSeconds: 0.5 },
      code: 'SPIFFE_CA_BAD_TTL',
    },
    {
      name: 'an empty audience',
      opts: { id: workload, now: t0, audience: [] },
      code: 'SPIFFE_JWT_MISSING_AUD',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const ca = await createDevCa({ trustDomain: td, clock });
      await assert.rejects(ca.mintJwtSvid(c.opts), rejectsWith(c.code));
    });
  }

  it('rejects an unsupported jwtAlgorithm at creation', async () => {
    await assert.rejects(
      createDevCa({ trustDomain: td, clock, jwtAlgorithm: 'HS256' as never }),
      rejectsWith('SPIFFE_CA_BAD_KEY_TYPE'),
    );
  });
});

describe('DevCa.rotateJwtKey', () => {
  it('signs with the new key and keeps the previous one so tokens in flight verify', async () => {
    const ca = await createDevCa({ trustDomain: td, clock });
    const old = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker'] });
    const oldKid = decodeProtectedHeader(old.token).kid;
    const seqBefore = ca.bundle().sequenceNumber ?? 0;
    const newKid = await ca.rotateJwtKey();
    assert.notEqual(newKid, oldKid);
    const fresh = await ca.mintJwtSvid({ id: workload, now: t0, audience: ['broker'] });
    assert.equal(decodeProtectedHeader(fresh.token).kid, newKid);
    assert.deepEqual([...ca.bundle().jwtAuthorities.keys()], [oldKid, newKid]);
    await verifyWithBundle(ca, old.token, 'ES256');
    await verifyWithBundle(ca, fresh.token, 'ES256');
    assert.ok((ca.bundle().sequenceNumber ?? 0) > seqBefore);
  });

  it('drops keys older than the previous one', async () => {
    const ca = await createDevCa({ trustDomain: td, clock });
    const [first] = ca.bundle().jwtAuthorities.keys();
    const second = await ca.rotateJwtKey();
    const third = await ca.rotateJwtKey();
    const kids = [...ca.bundle().jwtAuthorities.keys()];
    assert.deepEqual(kids, [second, third]);
    assert.ok(!kids.includes(first as string));
  });
});
