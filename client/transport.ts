import { BrokerError } from '../broker/errors.js';
import { SpiffeError } from '../spiffe/errors.js';

/** One HTTP exchange as the client makes it. */
export interface TransportRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** The answer, read in full. */
export interface TransportResponse {
  readonly status: number;
  /** A response header (case-insensitive name), or `undefined`. */
  header(name: string): string | undefined;
  readonly body: string;
}

/**
 * Sends one request and reads the whole answer within `timeoutMs` (connection, headers and body).
 *
 * @throws {BrokerError} `BROKER_CLIENT_TIMEOUT`, `BROKER_CLIENT_UNREACHABLE`; {@link SpiffeError}
 *   when the broker fails SPIFFE server authentication.
 */
export type Transport = (request: TransportRequest, timeoutMs: number) => Promise<TransportResponse>;

/** `scheme://host:port` of `url`: never its user info, path or query, which may carry secrets. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** The system error code of a network failure (`ECONNREFUSED`, `ENOTFOUND`, a TLS code), if any. */
function systemCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Translates a failure of the network layer into a coded error where it enters (EXAMPLES.md
 * "Errors"): a timeout, our own coded errors unchanged, anything else "unreachable" naming the
 * origin and the system code only.
 */
export function transportError(err: unknown, url: URL, timedOut: boolean, timeoutMs: number): Error {
  if (timedOut) return new BrokerError('BROKER_CLIENT_TIMEOUT', `${originOf(url)} after ${timeoutMs} ms`);
  if (err instanceof BrokerError || err instanceof SpiffeError) return err;
  const code = systemCode(err);
  return new BrokerError('BROKER_CLIENT_UNREACHABLE', `${originOf(url)}${code ? ` (${code})` : ''}`, {
    cause: err,
  });
}

/**
 * A {@link Transport} over WHATWG `fetch` (Node's by default): plain HTTP, or HTTPS with the system
 * roots and DNS-name verification. Redirects are not followed (the API never redirects; following
 * one could carry the bearer SVID elsewhere), so a 3xx surfaces as an unexpected answer.
 */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (request, timeoutMs) => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined && { body: request.body }),
        redirect: 'manual',
        signal,
      });
      // The same signal bounds the body: a broker that stalls mid-answer times out too.
      const body = await res.text();
      return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, body };
    } catch (err) {
      throw transportError(err, request.url, signal.aborted, timeoutMs);
    }
  };
}
