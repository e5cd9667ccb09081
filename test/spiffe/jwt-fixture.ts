// Shared set-up of the JWT-SVID suites: authorities of two trust domains at a fixed instant.
import type { BundleSource } from '../../spiffe/bundle.js';
import { staticSource, TestJwtAuthority, testBundle, type TestJwsAlg } from '../support/test-ca.js';

export const NOW = new Date('2031-05-01T12:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const AUD = 'spiffe://example.org/broker';

export interface JwtFixture {
  /** One authority per algorithm, all in the example.org bundle, `kid` = the algorithm name. */
  readonly byAlg: Readonly<Record<TestJwsAlg, TestJwtAuthority>>;
  readonly es256: TestJwtAuthority;
  /** In the other.org bundle only. */
  readonly foreign: TestJwtAuthority;
  /** In the other.org bundle only, with the same `kid` as `es256`. */
  readonly foreignSameKid: TestJwtAuthority;
  /** A key in the example.org bundle whose JWK is broken. */
  readonly broken: TestJwtAuthority;
  readonly source: BundleSource;
}

const ALGS: readonly TestJwsAlg[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export function jwtFixture(): JwtFixture {
  const byAlg = Object.fromEntries(ALGS.map((alg) => [alg, new TestJwtAuthority(alg, alg)])) as Record<
    TestJwsAlg,
    TestJwtAuthority
  >;
  const foreign = new TestJwtAuthority('ES256', 'foreign');
  const foreignSameKid = new TestJwtAuthority('ES256', 'ES256');
  const broken = new TestJwtAuthority('ES256', 'broken');
  const brokenEntry = { kid: 'broken', jwk: { ...broken.jwk, x: 'AAAA' } };
  const source = staticSource(
    testBundle('example.org', { jwt: [...Object.values(byAlg), brokenEntry] }),
    testBundle('other.org', { jwt: [foreign, foreignSameKid] }),
  );
  return { byAlg, es256: byAlg.ES256, foreign, foreignSameKid, broken, source };
}
