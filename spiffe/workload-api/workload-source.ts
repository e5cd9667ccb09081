import { SpiffeBundle, type BundleSource } from '../bundle.js';
import { BundleSet } from '../bundle-set.js';
import type { Clock } from '../clock.js';
import { SpiffeError } from '../errors.js';
import type { JwtSvid, X509Svid } from '../svid.js';
import type { TrustDomain } from '../trust-domain.js';
import type { JwtSvidRequest, WorkloadApiClient, X509Context } from './client.js';
import type { Watch } from './stream-watch.js';

/**
 * The workload's own identity and trust, kept current from a Workload API endpoint (go-spiffe v2's
 * `X509Source` and `JWTSource` in one): what the broker uses against a SPIRE agent.
 *
 * As a {@link BundleSource} it gives, per trust domain, a bundle with both the X.509 authorities (from
 * `FetchX509SVID`) and the JWT authorities (from `FetchJWTBundles`), so the X509-SVID and JWT-SVID
 * verifiers can both use it. A trust domain the endpoint stops sending is dropped (Workload API spec
 * §4.4: absence is redaction).
 */
export interface WorkloadSource extends BundleSource {
  /** Resolves once both the first X.509 context and the first JWT bundles have arrived. */
  ready(): Promise<void>;
  /**
   * The SVID to present: the one whose hint is `preferHint` if configured and present, else the default
   * (first) one (§5.3).
   *
   * @throws {SpiffeError} `SPIFFE_WORKLOAD_UNAVAILABLE` before the first update or once the current SVID
   * has expired per the clock (the endpoint has been unreachable for too long).
   */
  x509Svid(): X509Svid;
  /** All current X509-SVIDs, default first (empty before the first update). */
  x509Svids(): readonly X509Svid[];
  /** A snapshot of the merged bundles. */
  bundles(): BundleSet;
  /** A JWT-SVID from the endpoint (not cached: it is minted per request). */
  fetchJwtSvid(request: JwtSvidRequest): Promise<JwtSvid>;
  /** The last error reported by either watch, if any (cleared by the next update). */
  lastError(): SpiffeError | undefined;
  /** Stops watching. A pending `ready()` rejects with `SPIFFE_WORKLOAD_UNAVAILABLE`. */
  close(): void;
}

/** Options of {@link createWorkloadSource}. */
export interface WorkloadSourceOptions {
  client: WorkloadApiClient;
  clock: Clock;
  /** Pick the SVID with this hint when the endpoint sends several (§5.3). */
  preferHint?: string;
  /** Called after each update of either kind. */
  onUpdate?: () => void;
  /** Called with every error either watch reports (they keep reconnecting). */
  onError?: (err: SpiffeError) => void;
}

/** Starts watching X.509 context and JWT bundles through `client`; see {@link WorkloadSource}. */
export function createWorkloadSource(opts: WorkloadSourceOptions): WorkloadSource {
  let context: X509Context | undefined;
  let jwtBundles: BundleSet | undefined;
  let merged = new BundleSet();
  let error: SpiffeError | undefined;
  let closed = false;
  let settleReady: { resolve: () => void; reject: (err: SpiffeError) => void } | undefined;
  const readyPromise = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
  readyPromise.catch(() => undefined);

  const updated = (): void => {
    error = undefined;
    merged = mergeBundles(context?.bundles, jwtBundles);
    if (context && jwtBundles) settleReady?.resolve();
    opts.onUpdate?.();
  };
  const failed = (err: SpiffeError): void => {
    error = err;
    opts.onError?.(err);
  };
  const watches: Watch[] = [
    opts.client.watchX509Context((c) => {
      context = c;
      updated();
    }, failed),
    opts.client.watchJwtBundles((b) => {
      jwtBundles = b;
      updated();
    }, failed),
  ];

  return {
    ready: () => readyPromise,
    x509Svid() {
      const svids = context?.svids ?? [];
      const svid = svids.find((s) => opts.preferHint !== undefined && s.hint === opts.preferHint) ?? svids[0];
      if (!svid) throw new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'no x509 svid received yet');
      if (svid.expiresAt.getTime() <= opts.clock.now().getTime()) {
        throw new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'x509 svid expired before a rotation arrived');
      }
      return svid;
    },
    x509Svids: () => context?.svids ?? [],
    bundles: () => new BundleSet(merged.bundles()),
    getBundleForTrustDomain: (trustDomain: TrustDomain) => merged.getBundleForTrustDomain(trustDomain),
    fetchJwtSvid: (request) => opts.client.fetchJwtSvid(request),
    lastError: () => error,
    close() {
      if (closed) return;
      closed = true;
      for (const w of watches) w.stop();
      settleReady?.reject(new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'source closed'));
    },
  };
}

/** One bundle per trust domain with the X.509 authorities of one set and the JWT authorities of the other. */
function mergeBundles(x509: BundleSet | undefined, jwt: BundleSet | undefined): BundleSet {
  const domains = new Map<string, TrustDomain>();
  for (const b of [...(x509?.bundles() ?? []), ...(jwt?.bundles() ?? [])])
    domains.set(b.trustDomain.name, b.trustDomain);
  const out = new BundleSet();
  for (const trustDomain of domains.values()) {
    out.add(
      new SpiffeBundle({
        trustDomain,
        x509Authorities: x509?.get(trustDomain)?.x509Authorities ?? [],
        jwtAuthorities: jwt?.get(trustDomain)?.jwtAuthorities ?? new Map(),
      }),
    );
  }
  return out;
}
