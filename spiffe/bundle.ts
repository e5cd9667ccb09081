import type { JWK } from 'jose';
import { SpiffeError } from './errors.js';
import type { TrustDomain } from './trust-domain.js';
import type { x509 } from './internal/x509.js';

/** An X.509 certificate as parsed by @peculiar/x509. */
export type Certificate = x509.X509Certificate;

/** The parts of a {@link SpiffeBundle}. */
export interface SpiffeBundleInit {
  trustDomain: TrustDomain;
  /** Root (or intermediate, when the trust domain publishes one) CAs that sign X509-SVIDs. */
  x509Authorities?: readonly Certificate[];
  /** Public keys that sign JWT-SVIDs, by key id (`kid`). */
  jwtAuthorities?: ReadonlyMap<string, JWK>;
  /** `spiffe_sequence`: increases each time the bundle changes (Trust Domain and Bundle spec §4.1.1). */
  sequenceNumber?: number;
  /** `spiffe_refresh_hint` in seconds: how often a relying party should refresh (§4.1.2). */
  refreshHintSeconds?: number;
}

/**
 * The trust bundle of one trust domain (SPIFFE Trust Domain and Bundle spec §3–§4): the X.509
 * authorities and JWT authorities that relying parties use to verify that domain's SVIDs.
 *
 * Immutable; a refreshed bundle is a new value.
 */
export class SpiffeBundle {
  readonly trustDomain: TrustDomain;
  readonly x509Authorities: readonly Certificate[];
  readonly jwtAuthorities: ReadonlyMap<string, JWK>;
  readonly sequenceNumber: number | undefined;
  readonly refreshHintSeconds: number | undefined;

  constructor(init: SpiffeBundleInit) {
    this.trustDomain = init.trustDomain;
    this.x509Authorities = Object.freeze([...(init.x509Authorities ?? [])]);
    this.jwtAuthorities = new Map(init.jwtAuthorities ?? []);
    this.sequenceNumber = init.sequenceNumber;
    this.refreshHintSeconds = init.refreshHintSeconds;
    Object.freeze(this);
  }

  /** The JWT authority with key id `kid`, if the bundle has one. */
  findJwtAuthority(kid: string): JWK | undefined {
    return this.jwtAuthorities.get(kid);
  }
}

/**
 * A trust source: gives the bundle of a trust domain (go-spiffe's `bundle.Source`).
 *
 * Verifiers depend on this one method only, so static sets, federated endpoints and the Workload API
 * client are interchangeable.
 */
export interface BundleSource {
  /**
   * The current bundle of `trustDomain`.
   *
   * @throws {SpiffeError} `SPIFFE_BUNDLE_NOT_FOUND` when the source has none.
   */
  getBundleForTrustDomain(trustDomain: TrustDomain): SpiffeBundle;
}

/** Throws the standard "no bundle" error for `trustDomain`. */
export function bundleNotFound(trustDomain: TrustDomain): never {
  throw new SpiffeError('SPIFFE_BUNDLE_NOT_FOUND', trustDomain.name);
}
