import type { PeerCertificate } from 'node:tls';
import type { BundleSource, SpiffeBundle } from '../bundle.js';
import { parseBundle } from '../bundle-json.js';
import { SpiffeError } from '../errors.js';
import { x509 } from '../internal/x509.js';
import type { SpiffeId } from '../spiffe-id.js';
import type { TrustDomain } from '../trust-domain.js';
import { checkLeafRules } from '../x509-svid.js';
import type { BundleFetcher } from './bundle-fetcher.js';
import { parseEndpointUrl } from './endpoint-url.js';
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES, httpsGet } from './https-get.js';

/** Configuration of an `https_spiffe` bundle endpoint. */
export interface HttpsSpiffeEndpointOptions {
  /** The bundle endpoint URL; must be `https`. Its host is only an address, never the identity. */
  readonly url: string | URL;
  /** The SPIFFE ID the endpoint server must present in its X509-SVID. */
  readonly endpointId: SpiffeId;
  /**
   * Where the endpoint's trust domain bundle is read at each fetch: first the bundle exchanged out of
   * band, then the ones this endpoint served (usually the same {@link BundleSet} the refresher updates).
   */
  readonly bundleSource: BundleSource;
  /** The trust domain whose bundle the endpoint serves; defaults to the endpoint ID's trust domain. */
  readonly trustDomain?: TrustDomain;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/**
 * An `https_spiffe` bundle endpoint (Trust Domain and Bundle §5.2.2, Appendix B.2): Node's TLS
 * validates the server's chain against the X.509 authorities of the endpoint ID's trust domain as they
 * are now, then the server leaf must obey the X509-SVID leaf rules and carry exactly the configured
 * endpoint SPIFFE ID. The DNS name or IP address in the URL is not checked: it is not the identity.
 */
export class HttpsSpiffeEndpoint implements BundleFetcher {
  readonly trustDomain: TrustDomain;
  readonly url: URL;
  readonly endpointId: SpiffeId;
  readonly #bundleSource: BundleSource;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  /** @throws {SpiffeError} `SPIFFE_BUNDLE_BAD_ENDPOINT` for a URL that is not absolute `https`. */
  constructor(opts: HttpsSpiffeEndpointOptions) {
    this.url = parseEndpointUrl(opts.url);
    this.endpointId = opts.endpointId;
    this.trustDomain = opts.trustDomain ?? opts.endpointId.trustDomain;
    this.#bundleSource = opts.bundleSource;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  /**
   * Fetches and parses the bundle over a connection authenticated as {@link endpointId}.
   *
   * @throws {SpiffeError} `SPIFFE_BUNDLE_NOT_FOUND` when there is no bundle to authenticate the endpoint
   * with; `SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED` when that bundle has no X.509 authority, the chain
   * does not lead to one, the leaf is not an X509-SVID (the `SPIFFE_X509_*` error as `cause`) or holds
   * another SPIFFE ID; `SPIFFE_BUNDLE_FETCH_FAILED`, `SPIFFE_BUNDLE_MALFORMED`, `SPIFFE_BUNDLE_BAD_KEY`.
   */
  async fetchBundle(): Promise<SpiffeBundle> {
    const roots = this.#bundleSource.getBundleForTrustDomain(this.endpointId.trustDomain).x509Authorities;
    if (roots.length === 0) {
      throw new SpiffeError(
        'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
        'no x509 authority to authenticate with',
      );
    }
    const body = await httpsGet({
      url: this.url,
      // Only the trust domain's own authorities: the public root store must not vouch for the endpoint.
      ca: roots.map((root) => root.toString('pem')),
      checkServerIdentity: (_hostname, cert) => this.#checkServerIdentity(cert),
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
    });
    return parseBundle(this.trustDomain, body);
  }

  /** Runs after Node accepted the chain; returns the rejection instead of throwing (a TLS callback). */
  #checkServerIdentity(cert: PeerCertificate): Error | undefined {
    let presented: SpiffeId;
    try {
      presented = checkLeafRules(new x509.X509Certificate(cert.raw));
    } catch (err) {
      return new SpiffeError(
        'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
        'server certificate is not an x509-svid',
        {
          cause: err,
        },
      );
    }
    if (!presented.equals(this.endpointId)) {
      return new SpiffeError(
        'SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED',
        `server presented ${presented}, expected ${this.endpointId}`,
      );
    }
    return undefined;
  }

  describe(): string {
    return `https_spiffe ${this.url.href} as ${this.endpointId} for ${this.trustDomain}`;
  }
}
