/**
 * What a request presents to prove its caller's identity, read the same way by every transport
 * (HTTP headers, gRPC metadata): the `Authorization: Bearer` JWT-SVID when there is one, otherwise
 * the TLS peer's certificate chain. The {@link Authenticate} port then verifies whichever it got.
 *
 * @packageDocumentation
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Certificate } from '../../spiffe/bundle.js';
import { parseDerCertificate } from '../../spiffe/pem.js';
import { BrokerError } from '../errors.js';
import type { AuthFacts } from './ports.js';

/** The longest chain taken from a TLS peer (a leaf and a few intermediates is the norm). */
const MAX_CHAIN = 8;

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme, RFC 9110 §11.1), one space, a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The chain a TLS peer presented, leaf first, following Node's issuer links until they stop or loop.
 * Empty on a plain connection or when the peer sent no certificate. Nothing here is verified: the
 * chain goes to the `Authenticate` port, which verifies it fully as an X509-SVID.
 */
export function peerChain(socket: unknown): Certificate[] {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getPeerCertificate !== 'function') return [];
  const chain: Certificate[] = [];
  let cert: PeerCertificate | undefined = tlsSocket.getPeerCertificate(true);
  while (cert?.raw !== undefined && chain.length < MAX_CHAIN) {
    chain.push(parseDerCertificate(cert.raw));
    const next: PeerCertificate | undefined = (cert as { issuerCertificate?: PeerCertificate })
      .issuerCertificate;
    cert = next === cert ? undefined : next;
  }
  return chain;
}

/**
 * The identity facts of a request: the bearer token when an `Authorization` value is present (it
 * must then be a well-formed Bearer credential), otherwise the TLS peer chain, if any.
 *
 * @param authorization the `Authorization` values the request carries (HTTP allows one; gRPC
 *   metadata may repeat a key, and more than one is refused rather than guessed between).
 * @throws {BrokerError} `BROKER_AUTH_MISSING` when there is nothing to authenticate with;
 *   `BROKER_AUTH_INVALID` when the authorization is not exactly one `Bearer <token>`.
 */
export function authFactsFrom(
  authorization: string | readonly string[] | undefined,
  chain: readonly Certificate[],
): AuthFacts {
  const values = typeof authorization === 'string' ? [authorization] : (authorization ?? []);
  if (values.length > 1) throw new BrokerError('BROKER_AUTH_INVALID', 'give one authorization value');
  const header = values[0];
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) throw new BrokerError('BROKER_AUTH_INVALID', 'authorization must be a bearer token');
    return { bearer: match[1] as string };
  }
  if (chain.length > 0) return { peerCertificates: chain };
  throw new BrokerError('BROKER_AUTH_MISSING', 'present an x509-svid or a jwt-svid bearer token');
}
