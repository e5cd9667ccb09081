// A real HTTPS server on 127.0.0.1 that serves whatever the test sets, standing in for a bundle endpoint.
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TestCert } from '../bundle-fixtures.js';

/** What the server answers. `hang` accepts the request and never answers. */
export interface ServedResponse {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  hang?: boolean;
}

/** A running test bundle endpoint. */
export interface TestBundleServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: () => number;
  respondWith(response: ServedResponse): void;
  close(): Promise<void>;
}

/** Starts an HTTPS server presenting `leaf` (chain `[leaf, ...intermediates]`) on an ephemeral port. */
export async function startBundleServer(
  leaf: TestCert,
  initial: ServedResponse = {},
): Promise<TestBundleServer> {
  let response = initial;
  let count = 0;
  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    count++;
    if (response.hang) return;
    res.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
    res.end(response.body ?? '{"keys":[]}');
  });
  // Handshake failures are expected in the rejection cases; keep them out of the test output.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/bundle`,
    requests: () => count,
    respondWith: (r) => {
      response = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL on which nothing listens: a port taken from the OS, then released. */
export async function unusedUrl(): Promise<string> {
  const probe = createTcpServer((socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `https://127.0.0.1:${port}/bundle`;
}
