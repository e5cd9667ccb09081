import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import type {
  JwtSvidResponseMessage,
  ValidateJwtSvidResponseMessage,
} from '../../../spiffe/workload-api/proto.js';
import { fromStruct } from '../../../spiffe/workload-api/struct-codec.js';
import { FakePeerCredentials } from '../../fakes/fake-peer-credentials.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import { TestJwtAuthority } from '../../support/test-ca.js';
import { codeOf, id, openStream, registrations, startHarness, TD, unary, type Harness } from './harness.js';

const peer = { pid: 7, uid: 1000, gid: 100 };

describe('Workload API server: JWT-SVID profile', () => {
  let issuer: FakeSvidIssuer;
  let h: Harness;
  before(async () => {
    issuer = await FakeSvidIssuer.create(TD);
    h = await startHarness({
      issuer,
      peerCredentials: new FakePeerCredentials(peer),
      jwtSvidTtlSeconds: 120,
      registrations: registrations([
        { path: '/agent', uid: 1000, hint: 'main' },
        { path: '/staff', gid: 100 },
      ]),
    });
  });
  after(() => h.close());

  const fetch = (request: object) => unary<JwtSvidResponseMessage>(h.client, 'FetchJWTSVID', request);
  const validate = (request: object) =>
    unary<ValidateJwtSvidResponseMessage>(h.client, 'ValidateJWTSVID', request);

  it('mints one JWT-SVID per entitled identity for the audience', async () => {
    const res = await fetch({ audience: ['crm-api', 'billing'] });
    assert.deepEqual(
      res.svids.map((s) => s.spiffe_id),
      [id('/agent').toString(), id('/staff').toString()],
    );
    assert.deepEqual(
      res.svids.map((s) => s.hint),
      ['main', ''],
    );
    const claims = decodeJwt(res.svids[0]?.svid ?? '');
    assert.equal(claims.sub, id('/agent').toString());
    assert.deepEqual(claims.aud, ['crm-api', 'billing']);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 120);
  });

  it('mints only the requested identity when spiffe_id is set', async () => {
    const res = await fetch({ audience: ['crm-api'], spiffe_id: id('/staff').toString() });
    assert.deepEqual(
      res.svids.map((s) => s.spiffe_id),
      [id('/staff').toString()],
    );
  });

  const badFetches: [string, object, number][] = [
    ['no audience', { audience: [] }, status.INVALID_ARGUMENT],
    ['an empty audience value', { audience: ['ok', ''] }, status.INVALID_ARGUMENT],
    [
      'a spiffe_id that is not a SPIFFE ID',
      { audience: ['a'], spiffe_id: 'https://example.org/x' },
      status.INVALID_ARGUMENT,
    ],
    [
      'a spiffe_id the caller is not entitled to',
      { audience: ['a'], spiffe_id: id('/root').toString() },
      status.PERMISSION_DENIED,
    ],
  ];
  for (const [name, request, code] of badFetches) {
    it(`rejects a FetchJWTSVID with ${name}`, async () => {
      assert.equal(await codeOf(fetch(request)), code);
    });
  }

  it('validates a JWT-SVID it minted and returns its SPIFFE ID and claims', async () => {
    const token = (await fetch({ audience: ['crm-api'] })).svids[0]?.svid ?? '';
    const res = await validate({ audience: 'crm-api', svid: token });
    assert.equal(res.spiffe_id, id('/agent').toString());
    const claims = fromStruct(res.claims);
    assert.equal(claims['sub'], id('/agent').toString());
    assert.deepEqual(claims['aud'], ['crm-api']);
    assert.equal(typeof claims['exp'], 'number');
  });

  const badValidations: [string, () => Promise<object>][] = [
    ['the wrong audience', async () => ({ audience: 'other', svid: await token() })],
    ['no audience', async () => ({ audience: '', svid: await token() })],
    ['no token', async () => ({ audience: 'crm-api', svid: '' })],
    ['garbage', async () => ({ audience: 'crm-api', svid: 'not-a-jwt' })],
    [
      'a token signed by a key outside the bundle',
      async () => ({ audience: 'crm-api', svid: foreignToken() }),
    ],
    [
      'a token of a trust domain with no bundle',
      async () => ({ audience: 'crm-api', svid: foreignToken('spiffe://elsewhere.org/x') }),
    ],
  ];
  for (const [name, request] of badValidations) {
    it(`answers InvalidArgument to ValidateJWTSVID with ${name}`, async () => {
      assert.equal(await codeOf(validate(await request())), status.INVALID_ARGUMENT);
    });
  }

  it('serves the JWT bundle as a JWK Set keyed by trust domain SPIFFE ID', async () => {
    const msg = await openStream<{ bundles: Record<string, Buffer> }>(h.client, 'FetchJWTBundles').next();
    const jwks = JSON.parse(msg.bundles[`spiffe://${TD}`]?.toString() ?? '{}') as {
      keys: { kid: string; d?: string }[];
    };
    assert.deepEqual(
      jwks.keys.map((k) => k.kid),
      [...issuer.bundle().jwtAuthorities.keys()],
    );
    assert.ok(jwks.keys.every((k) => k.d === undefined));
  });

  async function token(): Promise<string> {
    return (await fetch({ audience: ['crm-api'] })).svids[0]?.svid ?? '';
  }

  function foreignToken(sub = id('/agent').toString()): string {
    return new TestJwtAuthority('ES256').mint({ sub, aud: ['crm-api'], now: h.clock.now() });
  }
});

describe('Workload API server: unauthenticated verifiers', () => {
  it('serves bundles and validation to a caller with no identity when allowed', async () => {
    const issuer = await FakeSvidIssuer.create(TD);
    const h = await startHarness({
      issuer,
      allowUnauthenticatedVerifiers: true,
      peerCredentials: new FakePeerCredentials(undefined),
      registrations: registrations([{ path: '/agent', uid: 1000 }]),
    });
    try {
      await openStream(h.client, 'FetchJWTBundles').next();
      await openStream(h.client, 'FetchX509Bundles').next();
      const svid = (await issuer.mintJwtSvid({ id: id('/agent'), now: h.clock.now(), audience: ['x'] }))
        .token;
      const res = await unary<ValidateJwtSvidResponseMessage>(h.client, 'ValidateJWTSVID', {
        audience: 'x',
        svid,
      });
      assert.equal(res.spiffe_id, id('/agent').toString());
      // Still no SVIDs for it.
      assert.equal(await codeOf(openStream(h.client, 'FetchX509SVID').next()), status.PERMISSION_DENIED);
    } finally {
      await h.close();
    }
  });
});
