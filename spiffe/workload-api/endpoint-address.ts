import { isAbsolute } from 'node:path';
import { SpiffeError } from '../errors.js';

/** Where a Workload API endpoint listens. */
export type EndpointAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * Parses a Workload Endpoint address as `SPIFFE_ENDPOINT_SOCKET` carries it (SPIFFE Workload Endpoint
 * spec §4 "Locating the Endpoint"): `unix:///abs/path` (also `unix:/abs/path`), or `tcp://IP:port`. A
 * bare absolute path is accepted as a convenience for a Unix socket. The caller reads the environment;
 * this function never does.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_ARGUMENT` for any other form (relative paths, host names,
 * query, fragment, user info — the spec forbids them).
 */
export function parseEndpointAddress(address: string): EndpointAddress {
  if (address.startsWith('/')) return { kind: 'unix', path: address };
  let url: URL;
  try {
    url = new URL(address);
  } catch (err) {
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'endpoint address is not a uri', { cause: err });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new SpiffeError(
      'SPIFFE_WORKLOAD_BAD_ARGUMENT',
      'endpoint address must not have query, fragment or user info',
    );
  }
  if (url.protocol === 'unix:') {
    if (url.host !== '' || !isAbsolute(url.pathname) || url.pathname === '/') {
      throw new SpiffeError(
        'SPIFFE_WORKLOAD_BAD_ARGUMENT',
        'unix endpoint needs an absolute path and no authority',
      );
    }
    return { kind: 'unix', path: decodeURIComponent(url.pathname) };
  }
  if (url.protocol === 'tcp:') {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port);
    if (
      !isIpLiteral(host) ||
      !Number.isInteger(port) ||
      port <= 0 ||
      (url.pathname !== '' && url.pathname !== '/')
    ) {
      throw new SpiffeError(
        'SPIFFE_WORKLOAD_BAD_ARGUMENT',
        'tcp endpoint needs an ip address and a port, no path',
      );
    }
    return { kind: 'tcp', host, port };
  }
  throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'endpoint scheme must be unix or tcp');
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** The gRPC target for an address (`unix:///path`, `ipv4:1.2.3.4:5`, `ipv6:[::1]:5`). */
export function grpcTarget(address: EndpointAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  return address.host.includes(':')
    ? `ipv6:[${address.host}]:${address.port}`
    : `ipv4:${address.host}:${address.port}`;
}
