// JWT-SVID minting for tests, with knobs for every bad token a verifier must reject. Tokens are
// assembled by hand (not with jose) so that broken headers and claims can be produced at all.
import { constants, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** Algorithms a test authority can sign with (the JWT-SVID list plus EdDSA, which verifiers must refuse). */
export type TestJwsAlg =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/**
 * What to put in a minted token. `null` omits a header parameter or claim; anything else is used verbatim.
 * Defaults: `sub` `spiffe://example.org/workload`, `aud` `['service']`, `iat` now, `exp` now + 5 minutes,
 * `kid` and `alg` from the authority, `typ` `JWT`.
 */
export interface JwtKnobs {
  readonly now?: Date;
  readonly sub?: unknown;
  readonly aud?: unknown;
  readonly exp?: unknown;
  readonly iat?: unknown;
  readonly nbf?: unknown;
  /** The header `alg`. `none` gives an empty signature; `HS256`/`HS384`/`HS512` an HMAC keyed with the
   * authority's public key in PEM (the classic key-confusion forgery); otherwise the authority's key signs. */
  readonly alg?: string;
  readonly kid?: string | null;
  readonly typ?: string | null;
  readonly header?: Readonly<Record<string, unknown>>;
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Appended to the compact serialization. */
  readonly trailing?: string;
}

function keyPairFor(alg: TestJwsAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  if (alg.startsWith('ES')) {
    const namedCurve = alg === 'ES256' ? 'P-256' : alg === 'ES384' ? 'P-384' : 'P-521';
    return generateKeyPairSync('ec', { namedCurve });
  }
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function withKnob(target: Record<string, unknown>, name: string, value: unknown, fallback: unknown): void {
  const chosen = value === undefined ? fallback : value;
  if (chosen !== null && chosen !== undefined) target[name] = chosen;
}

/** A JWT authority: a key pair, its `kid`, and the public JWK to put in a bundle. */
export class TestJwtAuthority {
  readonly kid: string;
  readonly alg: TestJwsAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as a SPIFFE bundle JWK (`use: jwt-svid`, with `kid`). */
  readonly jwk: JWK;

  constructor(alg: TestJwsAlg = 'ES256', kid: string = randomBytes(8).toString('hex')) {
    const { privateKey, publicKey } = keyPairFor(alg);
    this.alg = alg;
    this.kid = kid;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'jwt-svid' };
  }

  /** Mints a token; see {@link JwtKnobs} for the defaults and what each knob breaks. */
  mint(knobs: JwtKnobs = {}): string {
    const nowSeconds = Math.floor((knobs.now ?? new Date()).getTime() / 1000);
    const alg = knobs.alg ?? this.alg;
    const header: Record<string, unknown> = { alg };
    withKnob(header, 'kid', knobs.kid, this.kid);
    withKnob(header, 'typ', knobs.typ, 'JWT');
    Object.assign(header, knobs.header);
    const claims: Record<string, unknown> = {};
    withKnob(claims, 'sub', knobs.sub, 'spiffe://example.org/workload');
    withKnob(claims, 'aud', knobs.aud, ['service']);
    withKnob(claims, 'iat', knobs.iat, nowSeconds);
    withKnob(claims, 'exp', knobs.exp, nowSeconds + 300);
    withKnob(claims, 'nbf', knobs.nbf, undefined);
    Object.assign(claims, knobs.claims);
    const input = `${b64url(header)}.${b64url(claims)}`;
    return `${input}.${this.sign(alg, input)}${knobs.trailing ?? ''}`;
  }

  private sign(alg: string, input: string): string {
    if (alg === 'none') return '';
    if (alg.startsWith('HS')) {
      const secret = this.publicKey.export({ type: 'spki', format: 'pem' });
      return createHmac(`sha${alg.slice(2)}`, secret)
        .update(input)
        .digest('base64url');
    }
    const data = Buffer.from(input);
    if (this.alg === 'EdDSA') return sign(null, data, this.privateKey).toString('base64url');
    const hash = `sha${alg.slice(2)}`;
    if (alg.startsWith('ES')) {
      return sign(hash, data, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    }
    if (alg.startsWith('PS')) {
      const options = {
        key: this.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      };
      return sign(hash, data, options).toString('base64url');
    }
    return sign(hash, data, this.privateKey).toString('base64url');
  }
}
