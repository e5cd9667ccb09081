import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import { SpiffeError } from '../errors.js';
import { createBundleFeed, type BundleFeed } from './bundle-feed.js';
import { parseEndpointAddress } from './endpoint-address.js';
import type { WorkloadHandlerDeps } from './handler-deps.js';
import { fetchJwtBundles, fetchJwtSvid, validateJwtSvid } from './jwt-handlers.js';
import { silentLogger, type WorkloadApiLogger } from './logger.js';
import { createConnectionTracker, type ConnectionTracker } from './connection-tracker.js';
import { createSoPeerCredResolver, type PeerCredentialsResolver } from './peer-credentials.js';
import { closeServer, listenOn, prepareSocketPath } from './socket-file.js';
import { loadWorkloadApiProto } from './proto.js';
import { createRegistrations, type Registrations } from './registrations.js';
import type { SvidIssuer } from './svid-issuer.js';
import { systemTimers, type Timers } from './timers.js';
import { fetchX509Bundles, fetchX509Svid } from './x509-handlers.js';
import { createX509SvidCache } from './x509-svid-cache.js';

/**
 * Default mode of the socket file: owner and group may connect. SPIRE's agent makes its socket
 * world-connectable (0777) because attestation alone decides who gets what; here a configured `default`
 * identity goes to *anyone* who can connect, so by default the file system limits who that is. Pass
 * `0o777` for SPIRE's behaviour when only uid/gid entries grant identities.
 */
export const DEFAULT_SOCKET_MODE = 0o770;

/** Options of {@link createWorkloadApiServer}. */
export interface WorkloadApiServerOptions {
  /** Where to listen: `unix:///abs/path`, `unix:/abs/path` or an absolute path. */
  socketPath: string;
  issuer: SvidIssuer;
  /** Who gets which identity; every SPIFFE ID must be in the issuer's trust domain. */
  registrations: Registrations;
  clock: Clock;
  /** Timer seam for SVID rotation; real timers by default. */
  timers?: Timers;
  /** Served bundles; default: the issuer's bundle alone. `refresh()`, if present, runs after each mint. */
  bundles?: BundleFeed & { refresh?(): void };
  /** Caller attestation; default {@link createSoPeerCredResolver}. */
  peerCredentials?: PeerCredentialsResolver;
  /** File mode of the socket; default {@link DEFAULT_SOCKET_MODE}. */
  socketMode?: number;
  x509SvidTtlSeconds?: number;
  jwtSvidTtlSeconds?: number;
  /** Serve bundles and ValidateJWTSVID to callers with no identity (SPIRE's `allow_unauthenticated_verifiers`). */
  allowUnauthenticatedVerifiers?: boolean;
  logger?: WorkloadApiLogger;
}

/** A running (or runnable) Workload API endpoint. */
export interface WorkloadApiServer {
  /** The socket file. */
  readonly socketPath: string;
  /** The address clients use, e.g. as `SPIFFE_ENDPOINT_SOCKET`: `unix:///abs/path`. */
  readonly address: string;
  /** The bundles it serves. */
  readonly bundles: BundleFeed;
  /**
   * Listens. A stale socket file left by a previous run is replaced; anything else at the path is not.
   *
   * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_ARGUMENT` when the path holds something other than a socket.
   */
  start(): Promise<void>;
  /** Ends every stream and connection, stops listening and removes the socket file. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The SPIFFE Workload API server (Workload API spec §3–§6) on a Unix socket (Workload Endpoint spec §4),
 * serving SVIDs minted by `issuer` to callers identified by their kernel credentials.
 *
 * How the caller is identified: the server accepts connections itself (a `net.Server`), asks the
 * {@link PeerCredentialsResolver} for each socket's peer credentials (SO_PEERCRED, see
 * `peer-credentials.ts`), tags the socket with a unique `remoteAddress`, and only then hands it to
 * gRPC through `Server.createConnectionInjector`. Handlers find the credentials by `call.getPeer()`,
 * which gRPC derives from that tag, and match them against `registrations`.
 *
 * Every call must carry `workload.spiffe.io: true` (InvalidArgument otherwise); a caller with no
 * identity gets PermissionDenied ("no identity issued"), as SPIRE answers.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_REGISTRATION` when a registration is invalid or outside the
 * issuer's trust domain; `SPIFFE_WORKLOAD_BAD_ARGUMENT` for a socket address that is not a Unix path.
 */
export function createWorkloadApiServer(opts: WorkloadApiServerOptions): WorkloadApiServer {
  const address = parseEndpointAddress(opts.socketPath);
  if (address.kind !== 'unix') {
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'the server listens on unix sockets only');
  }
  const socketPath = address.path;
  const logger = opts.logger ?? silentLogger;
  const mode = opts.socketMode ?? DEFAULT_SOCKET_MODE;
  const resolver = opts.peerCredentials ?? createSoPeerCredResolver({ logger });
  let state: 'new' | 'starting' | 'ready' | 'stopped' = 'new';
  let running: Running | undefined;
  const deps = handlerDeps(
    opts,
    logger,
    (call) => running?.connections.peerOf(call) ?? Promise.resolve(undefined),
  );

  const accept = (socket: Socket): void => {
    // Until the socket file has its final mode, and after stop, nobody is served.
    if (state !== 'ready' || !running) socket.destroy();
    else running.connections.accept(socket);
  };

  return {
    socketPath,
    address: `unix://${socketPath}`,
    bundles: deps.feed,
    async start() {
      if (state !== 'new') throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'server already started');
      state = 'starting';
      running = startGrpc(deps, resolver, logger);
      try {
        running.net = await openListener(socketPath, mode, accept, logger);
      } catch (err) {
        // Not ours to clean: the path may be another server's live socket.
        running.grpc.forceShutdown();
        state = 'stopped';
        throw err;
      }
      if (deps.registrations.default && (mode & 0o007) !== 0) {
        logger.warn(
          { socket: socketPath, mode: mode.toString(8) },
          'default identity on a socket any user can open',
        );
      }
      state = 'ready';
      logger.info({ socket: socketPath }, 'workload api listening');
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      for (const cleanup of [...deps.openStreams]) cleanup();
      running?.grpc.forceShutdown();
      running?.injector.destroy();
      running?.connections.destroyAll();
      if (!running?.net) return;
      await closeServer(running.net);
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/** Listens on `path` with file mode `mode`, replacing a stale socket file. */
async function openListener(
  path: string,
  mode: number,
  accept: (socket: Socket) => void,
  logger: WorkloadApiLogger,
): Promise<NetServer> {
  await prepareSocketPath(path);
  const server = createServer(accept);
  server.on('error', (err) => logger.error({ socket: path, err }, 'workload api listener failed'));
  await listenOn(server, path);
  await chmod(path, mode);
  return server;
}

interface Running {
  grpc: grpc.Server;
  injector: grpc.ConnectionInjector;
  connections: ConnectionTracker;
  net?: NetServer;
}

/** Validates the configuration into the handlers' dependencies. */
function handlerDeps(
  opts: WorkloadApiServerOptions,
  logger: WorkloadApiLogger,
  peerOf: WorkloadHandlerDeps['peerOf'],
): WorkloadHandlerDeps {
  const feed = opts.bundles ?? createBundleFeed({ local: () => opts.issuer.bundle() });
  return {
    issuer: opts.issuer,
    registrations: createRegistrations(opts.registrations, opts.issuer.trustDomain),
    clock: opts.clock,
    timers: opts.timers ?? systemTimers,
    feed,
    logger,
    openStreams: new Set(),
    svids: createX509SvidCache({
      issuer: opts.issuer,
      clock: opts.clock,
      ttlSeconds: opts.x509SvidTtlSeconds,
      // A mint may have renewed the CA: re-read the bundle so streams push the new root.
      onMinted: () => feed.refresh?.(),
    }),
    jwtSvidTtlSeconds: opts.jwtSvidTtlSeconds,
    allowUnauthenticatedVerifiers: opts.allowUnauthenticatedVerifiers ?? false,
    peerOf,
  };
}

/** A gRPC server with the Workload API service, fed by a connection injector instead of a port. */
function startGrpc(
  deps: WorkloadHandlerDeps,
  resolver: PeerCredentialsResolver,
  logger: WorkloadApiLogger,
): Running {
  const server = new grpc.Server();
  server.addService(loadWorkloadApiProto().service, {
    FetchX509SVID: fetchX509Svid(deps),
    FetchX509Bundles: fetchX509Bundles(deps),
    FetchJWTSVID: fetchJwtSvid(deps),
    FetchJWTBundles: fetchJwtBundles(deps),
    ValidateJWTSVID: validateJwtSvid(deps),
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return { grpc: server, injector, connections: createConnectionTracker({ resolver, injector, logger }) };
}
