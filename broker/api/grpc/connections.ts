/**
 * Carries each connection's TLS peer chain from the handshake to the gRPC handlers.
 *
 * The broker accepts connections itself (a `net.Server` on the Unix socket, a `tls.Server` on TCP)
 * and hands each one to gRPC through `Server.createConnectionInjector`, as the Workload API server
 * does (`spiffe/workload-api/connection-tracker.ts`): owning the TLS listener is what gives the
 * handlers the WHOLE presented chain (grpc-js's auth context only has the leaf) and lets the broker
 * rotate its X509-SVID with `setSecureContext`. Handlers only see `call.getPeer()`, which grpc-js
 * builds from the socket's `remoteAddress`, so every accepted socket gets a unique tag there before
 * it is injected; the tag is set server-side on our socket object, a client cannot influence it.
 *
 * @packageDocumentation
 */
import type { Socket } from 'node:net';
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { Certificate } from '../../../spiffe/bundle.js';

/** Each accepted connection gets this prefix plus a number as its `remoteAddress`, i.e. `call.getPeer()`. */
export const CONNECTION_TAG = 'taskpass-grpc-connection:';

/** The connections of one gRPC server. */
export interface ConnectionTracker {
  /** Tags `socket`, remembers `chain` (empty on the Unix socket) and hands the socket to gRPC. */
  accept(socket: Socket, chain: readonly Certificate[]): void;
  /** The chain of the connection `peer` names; empty when it presented none or is unknown. */
  chainOf(peer: string): readonly Certificate[];
  /** The peer's real address, for logs (`unix` on the socket). */
  remoteOf(peer: string): string | undefined;
  /** Destroys every open connection. */
  destroyAll(): void;
}

interface Connection {
  readonly socket: Socket;
  readonly chain: readonly Certificate[];
  readonly remote: string;
}

/** Creates a {@link ConnectionTracker} that injects into `injector`. */
export function createConnectionTracker(injector: ConnectionInjector): ConnectionTracker {
  const connections = new Map<string, Connection>();
  let seq = 0;
  return {
    accept(socket, chain) {
      const tag = `${CONNECTION_TAG}${++seq}`;
      const remote =
        socket.remoteAddress === undefined ? 'unix' : `${socket.remoteAddress}:${socket.remotePort}`;
      connections.set(tag, { socket, chain: Object.freeze([...chain]), remote });
      // grpc-js's getPeer() is `remoteAddress[:remotePort]`: the tag alone, for an exact lookup.
      Object.defineProperty(socket, 'remoteAddress', { value: tag });
      Object.defineProperty(socket, 'remotePort', { value: undefined });
      socket.once('close', () => connections.delete(tag));
      injector.injectConnection(socket);
    },
    chainOf: (peer) => connections.get(peer)?.chain ?? [],
    remoteOf: (peer) => connections.get(peer)?.remote,
    destroyAll() {
      for (const { socket } of connections.values()) socket.destroy();
    },
  };
}
