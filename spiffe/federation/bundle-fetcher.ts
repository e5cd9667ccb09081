import type { SpiffeBundle } from '../bundle.js';
import type { TrustDomain } from '../trust-domain.js';

/**
 * Where the bundle of one trust domain comes from: a static file or a bundle endpoint (SPIFFE Trust
 * Domain and Bundle §5). The `<trust domain, source>` pair is explicit configuration, as §5 requires.
 */
export interface BundleFetcher {
  /** The trust domain whose bundle this fetcher returns. */
  readonly trustDomain: TrustDomain;

  /**
   * Fetches the current bundle of {@link BundleFetcher.trustDomain}.
   *
   * @throws {SpiffeError} a `SPIFFE_BUNDLE_*` code: `FETCH_FAILED`, `ENDPOINT_UNAUTHENTICATED`,
   * `MALFORMED`, `BAD_KEY`, `NOT_FOUND` (no bundle to authenticate an `https_spiffe` endpoint with).
   */
  fetchBundle(): Promise<SpiffeBundle>;

  /** Where the bundle comes from, for logs and status (never contains credentials). */
  describe(): string;
}
