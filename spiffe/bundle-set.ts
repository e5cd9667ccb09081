import { bundleNotFound, type BundleSource, type SpiffeBundle } from './bundle.js';
import type { TrustDomain } from './trust-domain.js';

/**
 * The bundles of several trust domains, at most one per trust domain (go-spiffe's `spiffebundle.Set`):
 * the local trust domain's bundle plus those of federated ones.
 *
 * Each bundle stays immutable; the set swaps whole values, so a verifier that fetched a bundle keeps a
 * consistent view while a refresher replaces it. Keys are trust domain names, never the key material:
 * Trust Domain and Bundle §3 asks that a bundle be kept as a `<trust_domain_name, bundle>` tuple.
 */
export class BundleSet implements BundleSource {
  readonly #bundles = new Map<string, SpiffeBundle>();

  /** A set holding `bundles`; a later bundle of the same trust domain replaces an earlier one. */
  constructor(bundles: Iterable<SpiffeBundle> = []) {
    for (const bundle of bundles) this.add(bundle);
  }

  /** Adds `bundle`, replacing the bundle of its trust domain if the set had one. */
  add(bundle: SpiffeBundle): void {
    this.#bundles.set(bundle.trustDomain.name, bundle);
  }

  /** Removes the bundle of `trustDomain`; true when there was one. */
  remove(trustDomain: TrustDomain): boolean {
    return this.#bundles.delete(trustDomain.name);
  }

  /** The bundle of `trustDomain`, or `undefined`. */
  get(trustDomain: TrustDomain): SpiffeBundle | undefined {
    return this.#bundles.get(trustDomain.name);
  }

  /** True when the set has a bundle for `trustDomain`. */
  has(trustDomain: TrustDomain): boolean {
    return this.#bundles.has(trustDomain.name);
  }

  /** How many trust domains the set has a bundle for. */
  get size(): number {
    return this.#bundles.size;
  }

  /** A snapshot of the bundles, ordered by trust domain name. */
  bundles(): SpiffeBundle[] {
    return [...this.#bundles.values()].sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : 1));
  }

  /**
   * The bundle of `trustDomain` ({@link BundleSource}).
   *
   * @throws {SpiffeError} `SPIFFE_BUNDLE_NOT_FOUND` when the set has none.
   */
  getBundleForTrustDomain(trustDomain: TrustDomain): SpiffeBundle {
    return this.#bundles.get(trustDomain.name) ?? bundleNotFound(trustDomain);
  }
}
