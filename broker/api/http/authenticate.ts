import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Certificate } from '../../../spiffe/bundle.js';
import { parseDerCertificate } from '../../../spiffe/pem.js';
import { BrokerError } from '../../errors.js';
import type { AuthFacts, Authenticate, Caller } from '../ports.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, set by {@link requireCaller}; `null` on unauthenticated routes. */
    caller: Caller | null;
  }
}

/** The longest chain taken from a TLS peer (a leaf and a few intermediates is the norm). */
const MAX_CHAIN = 8;

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme, RFC 9110 §11.1), one space, a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The chain a TLS peer presented, leaf first, following Node's issuer links until they stop or loop.
 * Empty on a plain-HTTP connection or when the peer sent no certificate.
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
 * The identity facts of a request: the bearer token when an `Authorization` header is present
 * (it must then be a well-formed Bearer credential), otherwise the TLS peer chain, if any.
 *
 * @throws {BrokerError} `BROKER_AUTH_MISSING` when there is nothing to authenticate with;
 * `BROKER_AUTH_INVALID` when the `Authorization` header is not `Bearer <token>`.
 */
export function authFactsOf(request: FastifyRequest): AuthFacts {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) throw new BrokerError('BROKER_AUTH_INVALID', 'authorization must be a bearer token');
    return { bearer: match[1] as string };
  }
  const chain = peerChain(request.raw.socket);
  if (chain.length > 0) return { peerCertificates: chain };
  throw new BrokerError('BROKER_AUTH_MISSING', 'present an x509-svid or a jwt-svid bearer token');
}

/**
 * A preHandler that authenticates the request through `authenticate` and sets `request.caller`.
 * Refusals propagate to the error handler: 401 for a missing or bad SVID.
 */
export function requireCaller(authenticate: Authenticate): preHandlerAsyncHookHandler {
  return async (request) => {
    request.caller = await authenticate(authFactsOf(request));
    request.log.debug(
      { spiffe_id: request.caller.id.toString(), via: request.caller.via },
      'caller authenticated',
    );
  };
}

/**
 * The caller of an authenticated route.
 *
 * @throws {BrokerError} `BROKER_AUTH_MISSING` when the route was not behind {@link requireCaller}.
 */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === null) throw new BrokerError('BROKER_AUTH_MISSING');
  return request.caller;
}
