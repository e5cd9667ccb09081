import { SpiffeBundle } from '../../spiffe/bundle.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JwtSvid, X509Svid } from '../../spiffe/svid.js';
import type { TrustDomain } from '../../spiffe/trust-domain.js';
import type { SvidIssuer } from '../../spiffe/workload-api/svid-issuer.js';
import { TestCa, TestJwtAuthority } from '../support/test-ca.js';

/**
 * A fake {@link SvidIssuer} (SPIRE's `test/fakes` style): mints real, verifiable SVIDs from a test CA,
 * counts mints, and supports failure injection and bundle changes.
 */
export class FakeSvidIssuer implements SvidIssuer {
  readonly trustDomain: TrustDomain;
  /** How many X509-SVIDs / JWT-SVIDs were minted. */
  x509Mints = 0;
  jwtMints = 0;
  /** The `now` each X509 mint was asked for, in order. */
  readonly x509MintTimes: Date[] = [];
  #ca: TestCa;
  #jwt: TestJwtAuthority[];
  #failNext: Error | undefined;

  private constructor(ca: TestCa) {
    this.trustDomain = ca.trustDomain;
    this.#ca = ca;
    this.#jwt = [new TestJwtAuthority('ES256')];
  }

  /** An issuer for `trustDomain` whose root is valid from a day before `now` to a year after. */
  static async create(
    trustDomain = 'example.org',
    now: Date = new Date('2025-01-01T00:00:00Z'),
  ): Promise<FakeSvidIssuer> {
    return new FakeSvidIssuer(await TestCa.root(trustDomain, { now }));
  }

  /** The next mint (of either kind) rejects with `err`. */
  failNextWith(err: Error): void {
    this.#failNext = err;
  }

  /** Adds a new JWT signing key (the old one stays published), changing the bundle. */
  rotateJwtKey(): void {
    this.#jwt = [...this.#jwt, new TestJwtAuthority('ES256')];
  }

  async mintX509Svid(opts: { id: SpiffeId; now: Date; ttlSeconds?: number }): Promise<X509Svid> {
    this.#throwIfFailing();
    this.x509Mints += 1;
    this.x509MintTimes.push(opts.now);
    const notAfter = new Date(opts.now.getTime() + (opts.ttlSeconds ?? 3600) * 1000);
    const leaf = await this.#ca.leaf({ id: opts.id.toString(), notBefore: opts.now, notAfter });
    return Object.freeze({ ...leaf.svid, id: opts.id });
  }

  async mintJwtSvid(opts: {
    id: SpiffeId;
    now: Date;
    audience: readonly string[];
    ttlSeconds?: number;
  }): Promise<JwtSvid> {
    this.#throwIfFailing();
    this.jwtMints += 1;
    const iat = Math.floor(opts.now.getTime() / 1000);
    const exp = iat + (opts.ttlSeconds ?? 300);
    const key = this.#jwt.at(-1) as TestJwtAuthority;
    const token = key.mint({ now: opts.now, sub: opts.id.toString(), aud: [...opts.audience], exp });
    return Object.freeze({
      id: opts.id,
      token,
      audience: Object.freeze([...opts.audience]),
      expiresAt: new Date(exp * 1000),
    });
  }

  bundle(): SpiffeBundle {
    return new SpiffeBundle({
      trustDomain: this.trustDomain,
      x509Authorities: [this.#ca.cert],
      jwtAuthorities: new Map(this.#jwt.map((k) => [k.kid, k.jwk])),
    });
  }

  #throwIfFailing(): void {
    const err = this.#failNext;
    this.#failNext = undefined;
    if (err) throw err;
  }
}
