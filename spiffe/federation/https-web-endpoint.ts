import type { SpiffeBundle } from '../bundle.js';
import { parseBundle } from '../bundle-json.js';
import type { TrustDomain } from '../trust-domain.js';
import type { BundleFetcher } from './bundle-fetcher.js';
import { parseEndpointUrl } from './endpoint-url.js';
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES, httpsGet } from './https-get.js';

/** Configuration of an `https_web` bundle endpoint. */
export interface HttpsWebEndpointOptions {
  /** The trust domain the endpoint serves the bundle of: configuration, never read from the response. */
  readonly trustDomain: TrustDomain;
  /** The bundle endpoint URL; must be `https`. */
  readonly url: string | URL;
  /**
   * Trust anchors (PEM) replacing Node's public root store, e.g. a private or test CA. Omit it to use
   * the Web PKI.
   */
  readonly ca?: string | readonly string[];
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/**
 * An `https_web` bundle endpoint (Trust Domain and Bundle §5.2.1, Appendix B.1): the server is
 * authenticated by the Web PKI, certificate chain and hostname both, and the fetched document is taken
 * as the bundle of the configured trust domain (§6.1: the `<trust domain, endpoint address>` tuple binds
 * them).
 */
export class HttpsWebEndpoint implements BundleFetcher {
  readonly trustDomain: TrustDomain;
  readonly url: URL;
  readonly #ca: string | readonly string[] | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  /** @throws {SpiffeError} `SPIFFE_BUNDLE_BAD_ENDPOINT` for a URL that is not absolute `https`. */
  constructor(opts: HttpsWebEndpointOptions) {
    this.trustDomain = opts.trustDomain;
    this.url = parseEndpointUrl(opts.url);
    this.#ca = opts.ca;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  /**
   * Fetches and parses the bundle.
   *
   * @throws {SpiffeError} `SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED` (untrusted certificate, wrong host),
   * `SPIFFE_BUNDLE_FETCH_FAILED`, `SPIFFE_BUNDLE_MALFORMED` or `SPIFFE_BUNDLE_BAD_KEY`.
   */
  async fetchBundle(): Promise<SpiffeBundle> {
    const body = await httpsGet({
      url: this.url,
      ca: this.#ca,
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
    });
    return parseBundle(this.trustDomain, body);
  }

  describe(): string {
    return `https_web ${this.url.href} for ${this.trustDomain}`;
  }
}
