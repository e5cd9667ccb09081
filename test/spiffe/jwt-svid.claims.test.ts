import { before, describe, it } from 'node:test';
import { verifyJwtSvid } from '../../spiffe/jwt-svid.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';
import type { JwtKnobs } from '../support/test-ca.js';
import { rejects } from './x509-fixture.js';
import { AUD, jwtFixture, NOW, NOW_S, type JwtFixture } from './jwt-fixture.js';

// JWT-SVID spec §3.1 (sub), §3.2 (aud), §3.3 (exp); RFC 7519 §4.1.4–§4.1.5 (exp, nbf).
const cases: { name: string; knobs: JwtKnobs; audience?: string | string[]; code: SpiffeErrorCode }[] = [
  { name: 'rejects a token without sub', knobs: { sub: null }, code: 'SPIFFE_JWT_MISSING_SUB' },
  { name: 'rejects a sub that is not a SPIFFE ID', knobs: { sub: 'workload' }, code: 'SPIFFE_JWT_BAD_SUB' },
  {
    name: 'rejects a sub with a bad path',
    knobs: { sub: 'spiffe://example.org/a//b' },
    code: 'SPIFFE_JWT_BAD_SUB',
  },
  { name: 'rejects a numeric sub', knobs: { sub: 42 }, code: 'SPIFFE_JWT_BAD_SUB' },
  { name: 'rejects a token without aud', knobs: { aud: null }, code: 'SPIFFE_JWT_MISSING_AUD' },
  { name: 'rejects an empty aud list', knobs: { aud: [] }, code: 'SPIFFE_JWT_MISSING_AUD' },
  {
    name: 'rejects a wrong aud',
    knobs: { aud: 'spiffe://example.org/other' },
    code: 'SPIFFE_JWT_AUDIENCE_MISMATCH',
  },
  {
    name: 'rejects a list-valued aud without the expected audience',
    knobs: { aud: ['a', 'b'] },
    code: 'SPIFFE_JWT_AUDIENCE_MISMATCH',
  },
  {
    name: 'rejects aud matching only by prefix',
    knobs: { aud: `${AUD}/x` },
    code: 'SPIFFE_JWT_AUDIENCE_MISMATCH',
  },
  {
    name: 'rejects when no audience is expected',
    knobs: {},
    audience: [],
    code: 'SPIFFE_JWT_AUDIENCE_MISMATCH',
  },
  {
    name: 'rejects an aud list with a non-string member',
    knobs: { aud: [7, AUD] },
    code: 'SPIFFE_JWT_MALFORMED',
  },
  { name: 'rejects a token without exp', knobs: { exp: null }, code: 'SPIFFE_JWT_MISSING_EXP' },
  { name: 'rejects an exp in the past', knobs: { exp: NOW_S - 60 }, code: 'SPIFFE_JWT_EXPIRED' },
  { name: 'rejects an exp equal to now', knobs: { exp: NOW_S }, code: 'SPIFFE_JWT_EXPIRED' },
  { name: 'rejects a string exp', knobs: { exp: String(NOW_S + 60) }, code: 'SPIFFE_JWT_MALFORMED' },
  { name: 'rejects an nbf in the future', knobs: { nbf: NOW_S + 60 }, code: 'SPIFFE_JWT_NOT_YET_VALID' },
  { name: 'rejects a string iat', knobs: { iat: 'yesterday' }, code: 'SPIFFE_JWT_MALFORMED' },
];

describe('verifyJwtSvid: claims', () => {
  let f: JwtFixture;
  before(() => {
    f = jwtFixture();
  });

  for (const c of cases) {
    it(c.name, async () => {
      const token = f.es256.mint({ now: NOW, aud: AUD, ...c.knobs });
      await rejects(verifyJwtSvid(token, f.source, { now: NOW, audience: c.audience ?? AUD }), c.code);
    });
  }

  it('checks the signature before exp and aud: a forged expired token is a bad signature', async () => {
    const token = f.foreignSameKid.mint({ now: NOW, aud: 'elsewhere', exp: NOW_S - 60 });
    await rejects(verifyJwtSvid(token, f.source, { now: NOW, audience: AUD }), 'SPIFFE_JWT_BAD_SIGNATURE');
  });
});
