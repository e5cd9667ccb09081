import type { SpiffeBundle } from '../../../spiffe/bundle.js';
import type { X509Svid } from '../../../spiffe/svid.js';
import { svidTlsOptions } from '../../../spiffe/tls.js';

/** `https.createServer` options of the broker's HTTP API. */
export interface BrokerHttpsOptions {
  /** The broker's X509-SVID private key, PKCS#8 PEM. */
  readonly key: string;
  /** The broker's SVID chain, leaf first, PEM. */
  readonly cert: string;
  /** X.509 authorities of the trusted bundles: sent as acceptable CA names in the CertificateRequest. */
  readonly ca: string[];
  readonly requestCert: true;
  readonly rejectUnauthorized: false;
  readonly minVersion: 'TLSv1.2';
}

/**
 * HTTPS server options that present the broker's X509-SVID and ASK for (but do not require) a client
 * certificate: `requestCert: true, rejectUnauthorized: false`.
 *
 * Why not let TLS reject: the API has two ways in on one listener — mTLS with an X509-SVID, and
 * `Authorization: Bearer <JWT-SVID>` (DESIGN.md "Interfaces: HTTP"). With `rejectUnauthorized: true`
 * a bearer-only client without a certificate could not even connect. So the TLS layer only collects
 * whatever chain the peer presents, and every route behind `requireCaller` hands that chain to the
 * `Authenticate` port, which MUST verify it fully (X509-SVID spec §5: RFC 5280 path to the bundle of
 * the leaf's own trust domain, leaf rules, validity) — Node's `socket.authorized` is never trusted,
 * because it accepts a chain to ANY configured root and knows nothing of SPIFFE. A request with
 * neither a chain nor a bearer token is refused with 401 before any port is called. Unauthenticated
 * routes (`/healthz`, `/readyz`, `/metrics`, JWKS, discovery, `/docs`) ignore the chain.
 *
 * A deployment that wants mTLS only can pass `svidTlsOptions` unchanged (`rejectUnauthorized: true`).
 * When the SVID rotates, call `server.setSecureContext()` with fresh options.
 */
export function brokerHttpsOptions(
  svid: X509Svid,
  bundles: SpiffeBundle | readonly SpiffeBundle[],
): BrokerHttpsOptions {
  const { key, cert, ca, minVersion } = svidTlsOptions(svid, bundles);
  return { key, cert, ca, requestCert: true, rejectUnauthorized: false, minVersion };
}
