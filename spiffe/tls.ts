import { X509Certificate as NodeCertificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { SpiffeError } from './errors.js';
import type { BundleSource, SpiffeBundle } from './bundle.js';
import type { SpiffeId } from './spiffe-id.js';
import type { X509Svid } from './svid.js';
import { encodeCertificatesPem, parseDerCertificate } from './pem.js';
import { checkLeafRules, verifyX509Svid, type VerifiedX509Svid } from './x509-svid.js';

/**
 * Decides whether a peer's SPIFFE ID is allowed. Return `false` to reject, or throw a `SpiffeError` that
 * says why (as a `Matcher` does); anything else accepts.
 */
export type SpiffeIdAuthorizer = (id: SpiffeId) => boolean | void;

/** Node `tls` options that present an X509-SVID and require one from the peer. */
export interface SvidTlsOptions {
  /** The SVID's private key, PKCS#8 PEM. */
  readonly key: string;
  /** The SVID chain, leaf first, PEM. */
  readonly cert: string;
  /** The X.509 authorities of every given bundle, PEM, one entry per certificate. */
  readonly ca: string[];
  readonly requestCert: true;
  readonly rejectUnauthorized: true;
  readonly minVersion: 'TLSv1.2';
}

/**
 * Options for `tls.createServer` / `tls.connect` (and `https`) that present `svid` and have Node verify
 * the peer's chain (RFC 5280, done by OpenSSL) against the X.509 authorities of `bundles`.
 *
 * Node accepts a chain to ANY of those roots and knows nothing of SPIFFE, so on its own this is not
 * enough (X509-SVID spec §5.2): servers must call {@link peerSvid} on each connection, and clients must
 * also pass {@link spiffeCheckServerIdentity} as `checkServerIdentity` (Node's default would look for a
 * DNS name an SVID need not have).
 */
export function svidTlsOptions(
  svid: X509Svid,
  bundles: SpiffeBundle | readonly SpiffeBundle[],
): SvidTlsOptions {
  const list: readonly SpiffeBundle[] = Array.isArray(bundles) ? bundles : [bundles as SpiffeBundle];
  return {
    key: svid.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: encodeCertificatesPem(svid.certificates),
    ca: list.flatMap((bundle) => bundle.x509Authorities.map((root) => encodeCertificatesPem([root]))),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

/**
 * The chain as Node reports it in a detailed `PeerCertificate`: leaf first, issuer links followed until
 * they stop or loop (a self-signed root links to itself).
 */
function chainFrom(cert: PeerCertificate | undefined): Buffer[] {
  const chain: Buffer[] = [];
  for (let c = cert; c?.raw !== undefined && chain.length < 16;) {
    chain.push(c.raw);
    const next: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate })
      .issuerCertificate;
    c = next === c ? undefined : next;
  }
  return chain;
}

/**
 * Verifies the peer of an established TLS connection as an X509-SVID and returns its identity.
 *
 * Re-runs {@link verifyX509Svid} on the chain the peer presented, so the chain is anchored to the
 * X.509 authorities of the trust domain of the peer's own SPIFFE ID, whichever configured root Node used.
 *
 * @throws {SpiffeError} `SPIFFE_X509_EMPTY_CHAIN` when the peer sent no certificate, or any code of
 * {@link verifyX509Svid}.
 */
export async function peerSvid(
  socket: TLSSocket,
  source: BundleSource,
  opts: { readonly now: Date },
): Promise<VerifiedX509Svid> {
  const chain = chainFrom(socket.getPeerCertificate(true)).map((der) => parseDerCertificate(der));
  return verifyX509Svid(chain, source, opts);
}

const nodeRoots = new WeakMap<SpiffeBundle, readonly NodeCertificate[]>();

function rootsOf(bundle: SpiffeBundle): readonly NodeCertificate[] {
  let roots = nodeRoots.get(bundle);
  if (roots === undefined) {
    roots = bundle.x509Authorities.map((root) => new NodeCertificate(Buffer.from(root.rawData)));
    nodeRoots.set(bundle, roots);
  }
  return roots;
}

/** True when the reported chain links, signature by signature, to an authority of `bundle`. */
function anchoredIn(chain: readonly Buffer[], bundle: SpiffeBundle): boolean {
  const certs = chain.map((der) => new NodeCertificate(der));
  const roots = rootsOf(bundle);
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i] as NodeCertificate;
    if (roots.some((root) => cert.checkIssued(root) && cert.verify(root.publicKey))) return true;
    const issuer = certs[i + 1];
    if (issuer === undefined || !issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
      return false;
  }
  return false;
}

/**
 * A `checkServerIdentity` for TLS clients that authenticates the server by SPIFFE ID instead of DNS name.
 *
 * On the chain Node has already verified, it applies the X509-SVID leaf rules ({@link checkLeafRules}),
 * checks that the chain links by signature to an X.509 authority of the bundle of the server ID's own
 * trust domain (taken from `source`), then asks `authorize`. The hook is synchronous, so for the full
 * SPIFFE verification of the path (CA flags and validity of every certificate against that trust domain)
 * also await {@link peerSvid} on the socket before sending anything.
 *
 * The returned function never throws: it returns the `SpiffeError` (`SPIFFE_MATCH_UNEXPECTED_ID` when
 * `authorize` returns false), which Node turns into a failed connection.
 */
export function spiffeCheckServerIdentity(
  authorize: SpiffeIdAuthorizer,
  source: BundleSource,
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  return (_hostname, cert) => {
    try {
      if (cert?.raw === undefined) throw new SpiffeError('SPIFFE_X509_EMPTY_CHAIN');
      const id = checkLeafRules(parseDerCertificate(cert.raw));
      if (!anchoredIn(chainFrom(cert), source.getBundleForTrustDomain(id.trustDomain))) {
        throw new SpiffeError(
          'SPIFFE_X509_UNTRUSTED',
          'server chain is not anchored in its own trust domain',
        );
      }
      if (authorize(id) === false) throw new SpiffeError('SPIFFE_MATCH_UNEXPECTED_ID', id.toString());
      return undefined;
    } catch (err) {
      return err instanceof Error
        ? err
        : new SpiffeError('SPIFFE_MATCH_UNEXPECTED_ID', undefined, { cause: err });
    }
  };
}
