import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { BrokerError } from '../../errors.js';
import { authFactsFrom, peerChain } from '../auth-facts.js';
import type { AuthFacts, Authenticate, Caller } from '../ports.js';

export { peerChain };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, set by {@link requireCaller}; `null` on unauthenticated routes. */
    caller: Caller | null;
  }
}

/**
 * The identity facts of a request: the bearer token when an `Authorization` header is present
 * (it must then be a well-formed Bearer credential), otherwise the TLS peer chain, if any.
 *
 * @throws {BrokerError} `BROKER_AUTH_MISSING` when there is nothing to authenticate with;
 * `BROKER_AUTH_INVALID` when the `Authorization` header is not `Bearer <token>`.
 */
export function authFactsOf(request: FastifyRequest): AuthFacts {
  // The chain is only read when there is no Authorization header (the bearer token wins).
  const header = request.headers.authorization;
  return authFactsFrom(header, header === undefined ? peerChain(request.raw.socket) : []);
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
