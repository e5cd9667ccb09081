import type { SpiffeBundle } from '../bundle.js';
import type { SpiffeId } from '../spiffe-id.js';
import type { JwtSvid, X509Svid } from '../svid.js';
import type { TrustDomain } from '../trust-domain.js';

/**
 * What the Workload API server needs from a certificate authority: the narrow seam between the server
 * and `spiffe/ca` (the development CA satisfies it as is), so tests can serve from a fake issuer.
 */
export interface SvidIssuer {
  /** The trust domain it issues for; every registration must belong to it. */
  readonly trustDomain: TrustDomain;
  /**
   * Mints an X509-SVID for `id` (X509-SVID spec), valid from about `now`.
   *
   * @throws {SpiffeError} a `SPIFFE_CA_*` code when it cannot.
   */
  mintX509Svid(opts: { id: SpiffeId; now: Date; ttlSeconds?: number }): Promise<X509Svid>;
  /**
   * Mints a JWT-SVID for `id` and `audience` (JWT-SVID spec §3).
   *
   * @throws {SpiffeError} a `SPIFFE_CA_*` or `SPIFFE_JWT_*` code when it cannot.
   */
  mintJwtSvid(opts: {
    id: SpiffeId;
    now: Date;
    audience: readonly string[];
    ttlSeconds?: number;
  }): Promise<JwtSvid>;
  /** The current bundle of its trust domain (X.509 roots and JWT keys). */
  bundle(): SpiffeBundle;
}
