import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { SpiffeError } from '../errors.js';

/**
 * Makes `path` ready to listen on: creates its directory, and removes a stale socket file a previous
 * run left behind (as SPIRE's agent does). Refuses a path that holds anything but a socket, or a socket
 * some server still accepts connections on.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_ARGUMENT`.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const existing = await lstat(path).catch(() => undefined);
  if (!existing) return;
  if (!existing.isSocket())
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'socket path exists and is not a socket');
  if (await isListening(path)) throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'socket path is in use');
  await unlink(path);
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** `server.listen(path)` as a promise. */
export function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** `server.close()` as a promise (resolves at once when it is not listening). */
export function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
