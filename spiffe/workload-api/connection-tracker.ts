import type { Socket } from 'node:net';
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { IncomingCall } from './caller.js';
import type { WorkloadApiLogger } from './logger.js';
import type { PeerCredentials, PeerCredentialsResolver } from './peer-credentials.js';

/** Each accepted connection gets this prefix plus a number as its `remoteAddress`, i.e. `call.getPeer()`. */
export const CONNECTION_TAG = 'taskpass-workload-connection:';

/**
 * Carries each connection's attested peer credentials from accept time to the gRPC handlers.
 *
 * gRPC hides the socket from handlers; they only see `call.getPeer()`, which grpc-js builds from the
 * socket's `remoteAddress` (undefined for Unix sockets). So every accepted socket gets a unique tag as
 * its own `remoteAddress` before it is injected, and the credentials are kept under that tag until the
 * socket closes. The tag is set server-side on our socket object; a caller cannot influence it.
 */
export interface ConnectionTracker {
  /** Attests `socket` and hands it to gRPC. Call synchronously from the net server's `connection` event. */
  accept(socket: Socket): void;
  /** The credentials of the connection a call arrived on (`undefined`: unattested or unknown). */
  peerOf(call: IncomingCall): Promise<PeerCredentials | undefined>;
  /** Destroys every open connection. */
  destroyAll(): void;
}

/** Creates a {@link ConnectionTracker} that injects into `injector`. */
export function createConnectionTracker(opts: {
  resolver: PeerCredentialsResolver;
  injector: ConnectionInjector;
  logger: WorkloadApiLogger;
}): ConnectionTracker {
  const peers = new Map<string, Promise<PeerCredentials | undefined>>();
  const sockets = new Set<Socket>();
  let seq = 0;
  return {
    accept(socket) {
      const tag = `${CONNECTION_TAG}${++seq}`;
      // First, before anything can close the socket: the resolver may hand its fd to a helper process.
      const credentials = opts.resolver.resolve(socket);
      peers.set(tag, credentials);
      sockets.add(socket);
      Object.defineProperty(socket, 'remoteAddress', { value: tag });
      socket.once('close', () => {
        peers.delete(tag);
        sockets.delete(socket);
      });
      void credentials.then((peer) =>
        opts.logger.debug({ connection: tag, ...peer }, 'workload api connection attested'),
      );
      opts.injector.injectConnection(socket);
    },
    peerOf: (call) => peers.get(call.getPeer()) ?? Promise.resolve(undefined),
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
