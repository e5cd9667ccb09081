/**
 * The broker's gRPC API, `taskpass.v1.Broker` (DESIGN.md "Interfaces: gRPC"), over the same
 * transport-neutral ports as the HTTP API: on a Unix socket and/or on TCP with mutual TLS.
 *
 * @packageDocumentation
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SpiffeBundle } from '../../../spiffe/bundle.js';
import type { X509Svid } from '../../../spiffe/svid.js';
import { svidTlsOptions } from '../../../spiffe/tls.js';
import { closeServer, listenOn, prepareSocketPath } from '../../../spiffe/workload-api/socket-file.js';
import { BrokerError } from '../../errors.js';
import { peerChain } from '../auth-facts.js';
import type { HttpPorts } from '../ports.js';
import { auditHandlers } from './audit.js';
import { createConnectionTracker, type ConnectionTracker } from './connections.js';
import { credentialHandlers } from './credentials.js';
import type { HandlerContext } from './handler.js';
import { loadBrokerProto } from './proto.js';
import { revocationHandlers } from './revocations.js';
import { signalHandlers } from './signals.js';
import { taskHandlers } from './tasks.js';
import { watchHandlers } from './watch.js';

/** Largest accepted request message (the HTTP API's body limit); larger is RESOURCE_EXHAUSTED. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
/** Owner and group may connect (as the Workload API socket); every call still authenticates. */
export const DEFAULT_SOCKET_MODE = 0o770;
/** Linux `sun_path` holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/** The broker's TLS identity: the X509-SVID it presents, and the bundles client certificates chain to. */
export interface GrpcTlsIdentity {
  readonly svid: X509Svid;
  readonly bundles: readonly SpiffeBundle[];
}

/** Options of {@link createGrpcServer}: this factory's slice of the configuration. */
export interface GrpcServerOptions {
  readonly logger: Logger;
  /** Serve on this Unix socket (bearer JWT-SVIDs only). */
  readonly socketPath?: string;
  /** File mode of the socket (default {@link DEFAULT_SOCKET_MODE}). */
  readonly socketMode?: number;
  /** Serve on TCP with mutual TLS: a client certificate is required at the handshake. */
  readonly tcp?: {
    readonly host: string;
    readonly port: number;
    /** Read at listen and at each {@link GrpcServer.rekey}; may throw (e.g. the agent's SVID expired). */
    readonly identity: () => GrpcTlsIdentity;
  };
  /** Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
  /** How long `stop()` lets in-flight unary calls finish (default 5 s). */
  readonly shutdownGraceMs?: number;
}

/** A gRPC API server. */
export interface GrpcServer {
  /**
   * Opens the listeners. A stale socket file from a previous run is replaced.
   *
   * @throws {BrokerError} `BROKER_CONFIG_INVALID` for a socket path that is too long, in use or not a
   *   socket, or a TLS identity that cannot be loaded; listen errors (port in use) as is.
   */
  listen(): Promise<void>;
  /** `unix:///abs/path` (a gRPC target), once listening on the socket. */
  socketAddress(): string | undefined;
  /** `host:port` as bound on TCP (the real port when 0 was asked), once listening. */
  tcpAddress(): string | undefined;
  /** Re-reads the TLS identity: new connections get the new SVID and trust (SVID rotation). */
  rekey(): void;
  /** Stops accepting, ends open streams, lets in-flight calls finish, removes the socket. Idempotent. */
  stop(): Promise<void>;
}

/** Node TLS options of the TCP listener: the SVID presented, client certificates required, HTTP/2. */
function tlsOptions(identity: GrpcTlsIdentity) {
  return { ...svidTlsOptions(identity.svid, identity.bundles), ALPNProtocols: ['h2'] };
}

function serviceOf(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    ...taskHandlers(ports, ctx),
    ...credentialHandlers(ports, ctx),
    ...auditHandlers(ports, ctx),
    ...revocationHandlers(ports, ctx),
    ...signalHandlers(ports, ctx),
    ...watchHandlers(ports, ctx),
  };
}

/**
 * Builds the Broker gRPC server over `ports` (it listens on {@link GrpcServer.listen}).
 *
 * Authentication is per call: `authorization: Bearer <JWT-SVID>` metadata on either listener, or on
 * TCP the X509-SVID chain of the TLS client certificate. The TLS layer requires a certificate chaining
 * to a trusted bundle (`rejectUnauthorized`), and the `Authenticate` port then verifies the chain
 * fully as an X509-SVID (X509-SVID spec §5: to the bundle of the leaf's own trust domain), since
 * Node accepts a chain to ANY configured root and knows nothing of SPIFFE.
 */
export function createGrpcServer(ports: HttpPorts, opts: GrpcServerOptions): GrpcServer {
  const logger = opts.logger.child({ component: 'grpc' });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const connections = createConnectionTracker(injector);
  const openStreams = new Set<() => void>();
  const ctx: HandlerContext = {
    authenticate: ports.authenticate,
    chainOf: connections.chainOf,
    remoteOf: connections.remoteOf,
    logger,
    openStreams,
  };
  server.addService(loadBrokerProto().service, serviceOf(ports, ctx));
  const bound: { unix?: NetServer; tls?: TlsServer; socketPath?: string } = {};
  let state: 'new' | 'listening' | 'stopped' = 'new';

  return {
    async listen() {
      if (state !== 'new') throw new BrokerError('BROKER_INTERNAL', 'grpc server already started');
      state = 'listening';
      try {
        if (opts.socketPath !== undefined) {
          bound.unix = await listenUnix(opts.socketPath, opts.socketMode ?? DEFAULT_SOCKET_MODE, connections);
          bound.socketPath = opts.socketPath;
        }
        if (opts.tcp) bound.tls = await listenTls(opts.tcp, connections, logger);
      } catch (err) {
        await this.stop();
        throw err;
      }
      logger.info({ socket: bound.socketPath, tcp: this.tcpAddress() }, 'grpc api listening');
    },
    socketAddress: () => (bound.socketPath === undefined ? undefined : `unix://${bound.socketPath}`),
    tcpAddress() {
      const address = bound.tls?.address();
      if (address === null || address === undefined || typeof address === 'string') return undefined;
      return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    },
    rekey() {
      if (!bound.tls || !opts.tcp) return;
      try {
        bound.tls.setSecureContext(tlsOptions(opts.tcp.identity()));
        logger.info({}, 'grpc tls identity rotated');
      } catch (err) {
        // The listener keeps the previous identity until a rotation succeeds.
        logger.error({ err }, 'grpc tls identity rotation failed');
      }
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      const closing = [closeServer(bound.unix), closeServer(bound.tls)];
      for (const end of [...openStreams]) end();
      await shutdown(server, opts.shutdownGraceMs ?? 5000);
      injector.destroy();
      connections.destroyAll();
      await Promise.all(closing);
      if (bound.socketPath !== undefined) await unlink(bound.socketPath).catch(() => undefined);
    },
  };
}

/** `tryShutdown` (in-flight calls finish), forced after `graceMs`. */
function shutdown(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function listenUnix(path: string, mode: number, connections: ConnectionTracker): Promise<NetServer> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new BrokerError('BROKER_CONFIG_INVALID', `grpc.socket: longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  try {
    await prepareSocketPath(path);
  } catch (err) {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'grpc.socket: the path is in use or is not a socket', {
      cause: err,
    });
  }
  const net = createNetServer((socket) => connections.accept(socket, []));
  await listenOn(net, path);
  await chmod(path, mode);
  return net;
}

async function listenTls(
  tcp: NonNullable<GrpcServerOptions['tcp']>,
  connections: ConnectionTracker,
  logger: Logger,
): Promise<TlsServer> {
  let options: ReturnType<typeof tlsOptions>;
  try {
    options = tlsOptions(tcp.identity());
  } catch (err) {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'grpc tcp: no tls identity', { cause: err });
  }
  const tls = createTlsServer(options, (socket: TLSSocket) => connections.accept(socket, peerChain(socket)));
  // A client without an acceptable certificate fails the handshake: nothing reaches gRPC.
  tls.on('tlsClientError', (err) =>
    logger.info({ err_code: (err as NodeJS.ErrnoException).code }, 'tls handshake refused'),
  );
  await new Promise<void>((resolve, reject) => {
    tls.once('error', reject);
    tls.listen(tcp.port, tcp.host, () => {
      tls.off('error', reject);
      resolve();
    });
  });
  return tls;
}
