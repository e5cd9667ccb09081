import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JWT_SVID_ALGORITHMS, verifyJwtSvid, type JwtSvidAlgorithm } from '../../spiffe/jwt-svid.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';
import type { JwtKnobs } from '../support/test-ca.js';
import { rejects } from './x509-fixture.js';
import { AUD, jwtFixture, NOW, NOW_S, type JwtFixture } from './jwt-fixture.js';

describe('verifyJwtSvid: valid tokens', () => {
  let f: JwtFixture;
  before(() => {
    f = jwtFixture();
  });

  for (const alg of JWT_SVID_ALGORITHMS) {
    it(`accepts a token signed with ${alg}`, async () => {
      const token = f.byAlg[alg].mint({ now: NOW, aud: AUD });
      const svid = await verifyJwtSvid(token, f.source, { now: NOW, audience: AUD });
      assert.equal(svid.id.toString(), 'spiffe://example.org/workload');
      assert.deepEqual(svid.audience, [AUD]);
      assert.equal(svid.expiresAt.getTime(), (NOW_S + 300) * 1000);
      assert.equal(svid.issuedAt?.getTime(), NOW_S * 1000);
      assert.equal(svid.header.alg, alg);
      assert.equal(svid.header.kid, alg);
      assert.equal(svid.claims.sub, 'spiffe://example.org/workload');
    });
  }

  const accepted: { name: string; knobs: JwtKnobs; audience?: string | string[] }[] = [
    { name: 'accepts a list-valued aud that contains the expected audience', knobs: { aud: ['other', AUD] } },
    {
      name: 'accepts when the aud is one of several expected audiences',
      knobs: { aud: AUD },
      audience: ['x', AUD],
    },
    { name: 'accepts a token without typ', knobs: { typ: null } },
    { name: 'accepts typ JOSE', knobs: { typ: 'JOSE' } },
    { name: 'accepts a token without iat', knobs: { iat: null } },
    { name: 'accepts an nbf equal to now', knobs: { nbf: NOW_S } },
    { name: 'accepts an exp one second after now', knobs: { exp: NOW_S + 1 } },
    { name: 'accepts extra private claims', knobs: { claims: { task: 't-1' } } },
  ];
  for (const c of accepted) {
    it(c.name, async () => {
      const token = f.es256.mint({ now: NOW, aud: AUD, ...c.knobs });
      const svid = await verifyJwtSvid(token, f.source, { now: NOW, audience: c.audience ?? AUD });
      assert.equal(svid.id.toString(), 'spiffe://example.org/workload');
    });
  }

  it('returns the token aud as a list, whatever its form', async () => {
    const token = f.es256.mint({ now: NOW, aud: ['a', AUD] });
    const svid = await verifyJwtSvid(token, f.source, { now: NOW, audience: [AUD] });
    assert.deepEqual(svid.audience, ['a', AUD]);
  });

  it('accepts an algorithm the caller narrowed the list to', async () => {
    const token = f.byAlg.PS256.mint({ now: NOW, aud: AUD });
    await verifyJwtSvid(token, f.source, { now: NOW, audience: AUD, algorithms: ['PS256', 'ES256'] });
  });
});

interface RejectCase {
  name: string;
  token: (f: JwtFixture) => string;
  algorithms?: readonly JwtSvidAlgorithm[];
  code: SpiffeErrorCode;
}

const mint = (f: JwtFixture, knobs: JwtKnobs = {}): string => f.es256.mint({ now: NOW, aud: AUD, ...knobs });

// JWT-SVID spec §2 (header), §5.1 (serialization), bundle lookup by `sub` trust domain and `kid`.
const headerCases: RejectCase[] = [
  {
    name: 'rejects alg none with an empty signature',
    token: (f) => mint(f, { alg: 'none' }),
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'rejects HS256 keyed with the public key bytes',
    token: (f) => mint(f, { alg: 'HS256' }),
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'rejects EdDSA even with the key in the bundle',
    token: (f) => f.byAlg.EdDSA.mint({ now: NOW, aud: AUD }),
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'rejects a header without alg',
    token: (f) => mint(f, { header: { alg: undefined } }),
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'rejects an allowed algorithm the caller narrowed away',
    token: (f) => f.byAlg.RS256.mint({ now: NOW, aud: AUD }),
    algorithms: ['ES256'],
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'ignores algorithms outside the spec list smuggled into the options',
    token: (f) => mint(f, { alg: 'HS256' }),
    algorithms: ['HS256' as JwtSvidAlgorithm],
    code: 'SPIFFE_JWT_ALG_NOT_ALLOWED',
  },
  {
    name: 'rejects a token without kid',
    token: (f) => mint(f, { kid: null }),
    code: 'SPIFFE_JWT_MISSING_KID',
  },
  { name: 'rejects an empty kid', token: (f) => mint(f, { kid: '' }), code: 'SPIFFE_JWT_MISSING_KID' },
  { name: 'rejects an unknown kid', token: (f) => mint(f, { kid: 'nope' }), code: 'SPIFFE_JWT_UNKNOWN_KID' },
  { name: 'rejects typ at+jwt', token: (f) => mint(f, { typ: 'at+jwt' }), code: 'SPIFFE_JWT_BAD_TYP' },
  {
    name: 'rejects a key of another trust domain (kid only in that bundle)',
    token: (f) => f.foreign.mint({ now: NOW, aud: AUD }),
    code: 'SPIFFE_JWT_UNKNOWN_KID',
  },
  {
    name: 'rejects a key of another trust domain reusing a kid of the subject trust domain',
    token: (f) => f.foreignSameKid.mint({ now: NOW, aud: AUD }),
    code: 'SPIFFE_JWT_BAD_SIGNATURE',
  },
  {
    name: 'rejects a foreign subject signed with a key of this trust domain',
    token: (f) => f.byAlg.RS256.mint({ now: NOW, aud: AUD, sub: 'spiffe://other.org/workload' }),
    code: 'SPIFFE_JWT_UNKNOWN_KID',
  },
  {
    name: 'rejects a subject whose trust domain has no bundle',
    token: (f) => mint(f, { sub: 'spiffe://unknown.org/workload' }),
    code: 'SPIFFE_BUNDLE_NOT_FOUND',
  },
  {
    name: 'rejects an RSA algorithm pointing at an EC authority',
    token: (f) => f.byAlg.RS256.mint({ now: NOW, aud: AUD, kid: 'ES256' }),
    code: 'SPIFFE_JWT_BAD_SIGNATURE',
  },
  {
    name: 'rejects ES384 pointing at a P-256 authority',
    token: (f) => mint(f, { alg: 'ES384' }),
    code: 'SPIFFE_JWT_BAD_SIGNATURE',
  },
  {
    name: 'rejects an authority whose JWK is broken',
    token: (f) => f.broken.mint({ now: NOW, aud: AUD }),
    code: 'SPIFFE_BUNDLE_BAD_KEY',
  },
  {
    name: 'rejects a payload swapped under a valid signature',
    token: (f) => {
      const [h, , s] = mint(f).split('.');
      const [, p] = mint(f, { sub: 'spiffe://example.org/admin' }).split('.');
      return `${h}.${p}.${s}`;
    },
    code: 'SPIFFE_JWT_BAD_SIGNATURE',
  },
  {
    name: 'rejects trailing garbage after a dot',
    token: (f) => mint(f, { trailing: '.extra' }),
    code: 'SPIFFE_JWT_MALFORMED',
  },
  {
    name: 'rejects trailing garbage after a space',
    token: (f) => mint(f, { trailing: ' extra' }),
    code: 'SPIFFE_JWT_MALFORMED',
  },
  {
    name: 'rejects a trailing newline',
    token: (f) => mint(f, { trailing: '\n' }),
    code: 'SPIFFE_JWT_MALFORMED',
  },
  {
    name: 'rejects base64url garbage appended to the signature',
    token: (f) => mint(f, { trailing: 'AAAA' }),
    code: 'SPIFFE_JWT_BAD_SIGNATURE',
  },
  { name: 'rejects an empty string', token: () => '', code: 'SPIFFE_JWT_MALFORMED' },
  {
    name: 'rejects two segments',
    token: (f) => mint(f).split('.').slice(0, 2).join('.'),
    code: 'SPIFFE_JWT_MALFORMED',
  },
  {
    name: 'rejects a header that is not JSON',
    token: (f) => `bm90LWpzb24.${mint(f).split('.').slice(1).join('.')}`,
    code: 'SPIFFE_JWT_MALFORMED',
  },
  {
    name: 'rejects an unknown critical header parameter',
    token: (f) => mint(f, { header: { crit: ['exp-x'], 'exp-x': 1 } }),
    code: 'SPIFFE_JWT_MALFORMED',
  },
];

describe('verifyJwtSvid: header, serialization and keys', () => {
  let f: JwtFixture;
  before(() => {
    f = jwtFixture();
  });

  for (const c of headerCases) {
    it(c.name, async () => {
      const opts = { now: NOW, audience: AUD, ...(c.algorithms ? { algorithms: c.algorithms } : {}) };
      await rejects(verifyJwtSvid(c.token(f), f.source, opts), c.code);
    });
  }
});
