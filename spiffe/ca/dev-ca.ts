import { SpiffeBundle } from '../bundle.js';
import type { Clock } from '../clock.js';
import { SpiffeError } from '../errors.js';
import type { SpiffeId } from '../spiffe-id.js';
import type { JwtSvid, X509Svid } from '../svid.js';
import type { TrustDomain } from '../trust-domain.js';
import {
  generateJwtSigningKey,
  isJwtAlgorithm,
  signJwtSvid,
  type JwtAlgorithm,
  type JwtSigningKey,
} from './jwt-keys.js';
import { createCaKeyStore, type CaKeyStore } from './key-store.js';
import { loadOrCreateAuthority, renewAuthority, type SigningAuthority } from './authority.js';
import {
  BACKDATE_SECONDS,
  createLeafCertificate,
  generateX509KeyPair,
  type NodeKeyPair,
  type X509KeyType,
} from './x509-templates.js';

/** Default X509-SVID lifetime: one hour (SPIRE's default `default_x509_svid_ttl`). */
export const DEFAULT_X509_TTL_SECONDS = 3600;
/** Default JWT-SVID lifetime: five minutes (SPIRE's default `default_jwt_svid_ttl`). */
export const DEFAULT_JWT_TTL_SECONDS = 300;
/** Default lifetime of the CA certificate itself: one year. */
export const DEFAULT_CA_TTL_SECONDS = 365 * 24 * 3600;
/** JWT keys kept in the bundle: the current one and the one before it, so tokens in flight verify. */
const RETAINED_JWT_KEYS = 2;

/** Options of {@link DevCa.mintX509Svid}. */
export interface MintX509SvidOptions {
  id: SpiffeId;
  now: Date;
  ttlSeconds?: number;
  keyType?: X509KeyType;
  dnsNames?: string[];
}

/** Options of {@link DevCa.mintJwtSvid}. */
export interface MintJwtSvidOptions {
  id: SpiffeId;
  now: Date;
  audience: readonly string[];
  ttlSeconds?: number;
  extraClaims?: Record<string, unknown>;
}

/**
 * A development certificate authority for one trust domain: mints X509-SVIDs and JWT-SVIDs that SPIFFE
 * relying parties (go-spiffe v2, SPIRE's verifiers, ours) accept, and publishes the matching bundle.
 */
export interface DevCa {
  readonly trustDomain: TrustDomain;
  /**
   * Mints an X509-SVID (X509-SVID spec §2–§4) with a fresh key pair; the leaf is `certificates[0]`.
   * Its notAfter is the smallest of `now + ttl`, `now + maxTtl` and the CA certificate's notAfter.
   *
   * @throws {SpiffeError} `SPIFFE_CA_FOREIGN_TRUST_DOMAIN`, `SPIFFE_CA_BAD_TTL`, `SPIFFE_CA_BAD_KEY_TYPE`.
   */
  mintX509Svid(opts: MintX509SvidOptions): Promise<X509Svid>;
  /**
   * Mints a JWT-SVID (JWT-SVID spec §2–§3) signed with the current JWT key.
   *
   * @throws {SpiffeError} `SPIFFE_CA_FOREIGN_TRUST_DOMAIN`, `SPIFFE_CA_BAD_TTL`, `SPIFFE_JWT_MISSING_AUD`.
   */
  mintJwtSvid(opts: MintJwtSvidOptions): Promise<JwtSvid>;
  /** The trust bundle: the CA certificate and the public JWT keys by `kid` (Trust Domain and Bundle §4). */
  bundle(): SpiffeBundle;
  /**
   * Makes a new JWT key current; the previous one stays in the bundle so tokens in flight still verify,
   * older ones are dropped. Persisted when the CA has a data directory. Returns the new `kid`.
   */
  rotateJwtKey(): Promise<string>;
}

/** Options of {@link createDevCa}; TTLs are whole seconds, applied as defaults here as SPIRE's `NewCA` does. */
export interface DevCaOptions {
  trustDomain: TrustDomain;
  clock: Clock;
  /** Keys persist under `<dataDir>/ca/`; omitted: kept in memory only. */
  dataDir?: string;
  jwtAlgorithm?: JwtAlgorithm;
  defaultX509TtlSeconds?: number;
  defaultJwtTtlSeconds?: number;
  maxTtlSeconds?: number;
  caTtlSeconds?: number;
}

/**
 * A positive whole number of seconds.
 *
 * @throws {SpiffeError} `SPIFFE_CA_BAD_TTL` otherwise.
 */
export function checkTtl(ttl: number, what: string): number {
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new SpiffeError('SPIFFE_CA_BAD_TTL', what);
  return ttl;
}

function optionalTtl(ttl: number | undefined, fallback: number, what: string): number {
  return checkTtl(ttl ?? fallback, what);
}

interface CaConfig {
  readonly trustDomain: TrustDomain;
  readonly x509Ttl: number;
  readonly jwtTtl: number;
  readonly maxTtl: number;
  readonly caTtl: number;
  readonly jwtAlgorithm: JwtAlgorithm;
}

/**
 * Applies defaults and validates the options.
 *
 * @throws {SpiffeError} `SPIFFE_CA_BAD_TTL`, `SPIFFE_CA_BAD_KEY_TYPE`.
 */
function resolveConfig(opts: DevCaOptions): CaConfig {
  const jwtAlgorithm: unknown = opts.jwtAlgorithm ?? 'ES256';
  if (!isJwtAlgorithm(jwtAlgorithm))
    throw new SpiffeError('SPIFFE_CA_BAD_KEY_TYPE', JSON.stringify(jwtAlgorithm));
  return Object.freeze({
    trustDomain: opts.trustDomain,
    x509Ttl: optionalTtl(opts.defaultX509TtlSeconds, DEFAULT_X509_TTL_SECONDS, 'defaultX509TtlSeconds'),
    jwtTtl: optionalTtl(opts.defaultJwtTtlSeconds, DEFAULT_JWT_TTL_SECONDS, 'defaultJwtTtlSeconds'),
    maxTtl: opts.maxTtlSeconds === undefined ? Infinity : checkTtl(opts.maxTtlSeconds, 'maxTtlSeconds'),
    caTtl: optionalTtl(opts.caTtlSeconds, DEFAULT_CA_TTL_SECONDS, 'caTtlSeconds'),
    jwtAlgorithm,
  });
}

async function loadOrCreateJwtKeys(store: CaKeyStore, alg: JwtAlgorithm): Promise<readonly JwtSigningKey[]> {
  const stored = await store.loadJwtKeys();
  if (stored && stored.at(-1)?.alg === alg) return stored;
  // A changed algorithm rotates: the stored key stays published as the previous one.
  const keys = [...(stored ?? []), await generateJwtSigningKey(alg)].slice(-RETAINED_JWT_KEYS);
  await store.saveJwtKeys(keys);
  return keys;
}

/**
 * Creates (first run) or loads (later runs) the development CA of `trustDomain`.
 *
 * The CA certificate is EC P-256, self-signed, valid for `caTtlSeconds` (one year) and re-created once
 * expired; JWT-SVIDs are signed with `jwtAlgorithm` (ES256 by default).
 *
 * @throws {SpiffeError} `SPIFFE_CA_BAD_TTL` for a non-positive or fractional TTL option,
 *   `SPIFFE_CA_BAD_KEY_TYPE` for an unsupported `jwtAlgorithm`, `SPIFFE_CA_KEY_STORE` when the stored
 *   keys are unreadable, corrupt or belong to another trust domain.
 */
export async function createDevCa(opts: DevCaOptions): Promise<DevCa> {
  const config = resolveConfig(opts);
  const store = createCaKeyStore(opts.dataDir);
  const authority = await loadOrCreateAuthority(store, config.trustDomain, opts.clock.now(), config.caTtl);
  const jwtKeys = await loadOrCreateJwtKeys(store, config.jwtAlgorithm);
  return new LocalDevCa(config, store, authority, jwtKeys);
}

/** The {@link DevCa} implementation; its mutable state (current keys, sequence) lives per instance. */
class LocalDevCa implements DevCa {
  readonly trustDomain: TrustDomain;
  #sequence = 1;
  #pendingRenewal: Promise<SigningAuthority> | undefined;

  constructor(
    private readonly config: CaConfig,
    private readonly store: CaKeyStore,
    private authority: SigningAuthority,
    private jwtKeys: readonly JwtSigningKey[],
  ) {
    this.trustDomain = config.trustDomain;
  }

  async mintX509Svid(o: MintX509SvidOptions): Promise<X509Svid> {
    this.checkMember(o.id);
    const ttl = this.resolveTtl(o.ttlSeconds, this.config.x509Ttl);
    const keys = await generateX509KeyPair(o.keyType ?? 'ec-p256');
    return mintLeaf(await this.currentAuthority(o.now), o, keys, ttl);
  }

  async mintJwtSvid(o: MintJwtSvidOptions): Promise<JwtSvid> {
    this.checkMember(o.id);
    if (o.audience.length === 0) throw new SpiffeError('SPIFFE_JWT_MISSING_AUD');
    const ttl = this.resolveTtl(o.ttlSeconds, this.config.jwtTtl);
    const key = this.jwtKeys.at(-1) as JwtSigningKey;
    const issuedAt = Math.floor(o.now.getTime() / 1000);
    const expiresAt = issuedAt + ttl;
    const { id, audience, extraClaims } = o;
    const token = await signJwtSvid({ key, id, audience, issuedAt, expiresAt, extraClaims });
    return Object.freeze({
      id,
      token,
      audience: Object.freeze([...audience]),
      expiresAt: new Date(expiresAt * 1000),
    });
  }

  bundle(): SpiffeBundle {
    return new SpiffeBundle({
      trustDomain: this.trustDomain,
      x509Authorities: [this.authority.certificate],
      jwtAuthorities: new Map(this.jwtKeys.map((k) => [k.kid, k.publicJwk])),
      sequenceNumber: this.#sequence,
    });
  }

  async rotateJwtKey(): Promise<string> {
    const next = await generateJwtSigningKey(this.config.jwtAlgorithm);
    const keys = [...this.jwtKeys, next].slice(-RETAINED_JWT_KEYS);
    // Persist before publishing, so a restart never loses a key that already signed tokens.
    await this.store.saveJwtKeys(keys);
    this.jwtKeys = Object.freeze(keys);
    this.#sequence += 1;
    return next.kid;
  }

  private checkMember(id: SpiffeId): void {
    if (!id.memberOf(this.trustDomain))
      throw new SpiffeError('SPIFFE_CA_FOREIGN_TRUST_DOMAIN', id.trustDomain.name);
  }

  private resolveTtl(ttl: number | undefined, fallback: number): number {
    return Math.min(optionalTtl(ttl, fallback, 'ttlSeconds'), this.config.maxTtl);
  }

  /** The authority valid at `at`, renewing an expired one once even under concurrent callers. */
  private async currentAuthority(at: Date): Promise<SigningAuthority> {
    if (at.getTime() < this.authority.certificate.notAfter.getTime()) return this.authority;
    this.#pendingRenewal ??= renewAuthority(this.store, this.trustDomain, at, this.config.caTtl).then(
      (renewed) => {
        this.authority = renewed;
        this.#sequence += 1;
        this.#pendingRenewal = undefined;
        return renewed;
      },
      (err: unknown) => {
        this.#pendingRenewal = undefined;
        throw err;
      },
    );
    return this.#pendingRenewal;
  }
}

/** Signs the leaf for `keys`, capping notAfter at the CA certificate's notAfter (as SPIRE's CA does). */
async function mintLeaf(
  authority: SigningAuthority,
  o: MintX509SvidOptions,
  keys: NodeKeyPair,
  ttl: number,
): Promise<X509Svid> {
  const caNotAfter = authority.certificate.notAfter.getTime();
  const notAfter = new Date(Math.min(o.now.getTime() + ttl * 1000, caNotAfter));
  const leaf = await createLeafCertificate({
    id: o.id,
    publicKey: keys.publicKey,
    caCertificate: authority.certificate,
    caSigningKey: authority.signingKey,
    notBefore: new Date(o.now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter,
    dnsNames: o.dnsNames,
  });
  return Object.freeze({
    id: o.id,
    certificates: Object.freeze([leaf]),
    privateKey: keys.privateKey,
    expiresAt: leaf.notAfter,
  });
}
