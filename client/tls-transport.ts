import { request as httpsRequest, type RequestOptions } from 'node:https';
import { bundleNotFound, SpiffeBundle, type BundleSource, type Certificate } from '../spiffe/bundle.js';
import { encodeCertificatesPem, parseCertificates } from '../spiffe/pem.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { spiffeCheckServerIdentity } from '../spiffe/tls.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import { checkLeafRules } from '../spiffe/x509-svid.js';
import { transportError, type Transport } from './transport.js';

/** TLS settings of {@link httpsTransport}. */
export interface TlsTransportOptions {
  /** The caller's X509-SVID chain, leaf first (PEM), for mTLS. */
  readonly cert?: string | Uint8Array;
  /** The X509-SVID's private key (PEM). A secret: never logged. */
  readonly key?: string | Uint8Array;
  /**
   * X.509 roots (PEM) that authenticate the broker by SPIFFE ID: its certificate must be an X509-SVID
   * chaining to one of them. Without it the broker is authenticated the web way (system roots, DNS name).
   */
  readonly ca?: string | Uint8Array;
  /** With `ca`: the broker's exact SPIFFE ID. Default: any ID in the caller's own trust domain. */
  readonly serverId?: SpiffeId;
}

/**
 * Checks the TLS settings and returns the caller's SPIFFE ID (from its certificate) when it has one.
 *
 * @throws {SpiffeError} when `cert` holds no certificate or its leaf is not an X509-SVID (X509-SVID §4).
 */
export function clientSvidId(opts: TlsTransportOptions): SpiffeId | undefined {
  if (opts.cert === undefined) return undefined;
  return checkLeafRules(parseCertificates(opts.cert)[0]!);
}

/**
 * A bundle source holding `roots` as the bundle of the one trust domain the broker may belong to
 * (`expected`), or of whichever trust domain its SVID names when nothing narrower is known: the roots
 * are then the pin, as a CA file is for any TLS client.
 */
function rootsSource(roots: readonly Certificate[], expected: TrustDomain | undefined): BundleSource {
  const bundles = new Map<string, SpiffeBundle>();
  return {
    getBundleForTrustDomain(td) {
      if (expected !== undefined && !expected.equals(td)) bundleNotFound(td);
      let bundle = bundles.get(td.name);
      if (bundle === undefined) {
        bundle = new SpiffeBundle({ trustDomain: td, x509Authorities: roots });
        bundles.set(td.name, bundle);
      }
      return bundle;
    },
  };
}

/** The `node:https` options that authenticate the broker, and present the caller's SVID if any. */
function tlsOptions(opts: TlsTransportOptions): RequestOptions {
  const own = clientSvidId(opts);
  const base: RequestOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    ...(opts.cert !== undefined && { cert: Buffer.from(opts.cert) }),
    ...(opts.key !== undefined && { key: Buffer.from(opts.key) }),
  };
  if (opts.ca === undefined) return base;
  const roots = parseCertificates(opts.ca);
  const expected = opts.serverId?.trustDomain ?? own?.trustDomain;
  // Node verifies the chain to the roots (RFC 5280); the SPIFFE hook then applies the X509-SVID leaf
  // rules, checks the chain is anchored in the bundle of the server's own trust domain, and
  // authorizes its ID in place of a DNS name (X509-SVID spec §5.2).
  const authorize = (id: SpiffeId): boolean =>
    opts.serverId !== undefined ? id.equals(opts.serverId) : expected === undefined || id.memberOf(expected);
  return {
    ...base,
    ca: roots.map((root) => encodeCertificatesPem([root])),
    checkServerIdentity: spiffeCheckServerIdentity(authorize, rootsSource(roots, expected)),
  };
}

/**
 * A {@link Transport} over `node:https` for what `fetch` cannot do without extra dependencies: present
 * an X509-SVID (mTLS) and authenticate the broker by SPIFFE ID. One connection per request (no agent
 * pooling), so nothing is left open; the whole exchange is bounded by the timeout.
 *
 * @throws {SpiffeError} at creation when `cert` is not an X509-SVID, or `ca` holds no certificate.
 */
export function httpsTransport(opts: TlsTransportOptions): Transport {
  const tls = tlsOptions(opts);
  return (request, timeoutMs) =>
    new Promise((resolve, reject) => {
      let timedOut = false;
      const req = httpsRequest(
        request.url,
        { ...tls, method: request.method, headers: request.headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          // A connection destroyed mid-body (the timeout) closes the response without 'end'.
          res.on('close', () => {
            if (!res.complete) fail(new Error('response closed before its end'));
          });
          res.on('end', () => {
            clearTimeout(timer);
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, header: (name) => headerOf(res.headers[name]), body });
          });
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, timeoutMs);
      function fail(err: unknown): void {
        clearTimeout(timer);
        reject(transportError(err, request.url, timedOut, timeoutMs));
      }
      req.on('error', fail);
      req.end(request.body);
    });
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
