import { mkdir } from 'node:fs/promises';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Clock } from '../spiffe/clock.js';
import {
  createBundleFeed,
  createWorkloadApiClient,
  createWorkloadApiServer,
  createWorkloadSource,
  type PeerCredentialsResolver,
  type Registrations,
  type WorkloadApiServer,
  type WorkloadSource,
} from '../spiffe/workload-api/index.js';
import { httpPortsFromApp } from './api/app-ports.js';
import { createDevCaSvid, type RotatingSvid } from './api/grpc/dev-ca-svid.js';
import { createGrpcServer, type GrpcServer, type GrpcTlsIdentity } from './api/grpc/server.js';
import { createHttpServer } from './api/http/server.js';
import { brokerHttpsOptions, type BrokerHttpsOptions } from './api/http/tls.js';
import { createApp, type App, type AppOptions } from './app.js';
import { agentJwtSvidSource } from './broker-jwt-svid.js';
import type { BrokerConfig } from './config.js';
import { BrokerError } from './errors.js';
import type { ReloadResult } from './policy/policy-watcher.js';

/** The development Workload API that {@link startBroker} serves in `dev-ca` mode. */
export interface DevWorkloadApiOptions {
  /** Unix socket path. */
  readonly socketPath: string;
  /** Who gets which identity (every ID in the configured trust domain). */
  readonly registrations: Registrations;
  /** Caller attestation (default: SO_PEERCRED). */
  readonly peerCredentials?: PeerCredentialsResolver;
}

/** What {@link startBroker} needs besides the config. Only composition roots pass real seams. */
export interface BrokerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Further {@link createApp} options (tests: an in-memory database, a memory key store, timers). */
  readonly app?: Omit<AppOptions, 'clock' | 'logger' | 'bundles'>;
  /** Serve the development Workload API too (`taskpass dev`); only in `dev-ca` identity mode. */
  readonly workloadApi?: DevWorkloadApiOptions;
  /** Subscribes a policy-reload trigger (SIGHUP in `main.ts`); returns the unsubscribe. */
  readonly onReloadSignal?: (listener: () => void) => () => void;
  /** How long to wait for the SPIRE agent's first SVID and bundles (default 30 s). */
  readonly agentTimeoutMs?: number;
  /** The API version shown in the OpenAPI document. */
  readonly version?: string;
}

/** A running broker: its app, where it listens, and how to stop it. */
export interface RunningBroker {
  readonly app: App;
  /** The HTTP API's base URL as bound (the real port when the config asked for port 0). */
  readonly httpUrl: string;
  /** True when the HTTP API serves HTTPS with the broker's X509-SVID. */
  readonly tls: boolean;
  /** The development Workload API address (`unix:///…`), when served. */
  readonly workloadApi: string | undefined;
  /** The gRPC API's Unix socket as a gRPC target (`unix:///…`). */
  readonly grpcSocket: string;
  /** The gRPC API's TCP+mTLS listener as bound (`host:port`), when configured. */
  readonly grpcUrl: string | undefined;
  /** Reloads the policy file now (what SIGHUP does). */
  reload(): Promise<ReloadResult>;
  /** Stops accepting requests, lets in-flight ones finish, stops background work. Idempotent. */
  stop(): Promise<void>;
}

type Closer = () => Promise<void> | void;

/**
 * Starts the broker (DESIGN.md "Interfaces"): builds the app, serves the HTTP API on
 * `config.http.host:port`, the gRPC API on `config.grpc.socketPath` (and on TCP with mutual TLS when
 * `config.grpc.tcp` is set, see {@link listenGrpc}), and in `dev-ca` mode optionally the development
 * Workload API.
 *
 * Transport: with `identity.mode = workload-api` the broker takes its X509-SVID and the trust bundles
 * from the SPIRE agent and serves HTTPS (mTLS optional, bearer JWT-SVIDs accepted; see `tls.ts`),
 * re-keying the listener whenever the agent rotates the SVID. In `dev-ca` mode it serves plain HTTP
 * (meant for loopback development: bearer JWT-SVIDs then travel unencrypted).
 *
 * SIGHUP (through `onReloadSignal`) reloads the policy; a refused reload keeps the policy in force.
 *
 * @throws {BrokerError} as {@link createApp}; `BROKER_CONFIG_INVALID` when the agent gives no SVID in
 *   time or the Workload API is asked for outside `dev-ca` mode; listen errors (port in use) as is.
 *   Whatever was started is stopped again.
 */
export async function startBroker(config: BrokerConfig, deps: BrokerDeps): Promise<RunningBroker> {
  const log = deps.logger.child({ component: 'server' });
  const closers: Closer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const bound: { http?: FastifyInstance; grpc?: GrpcServer } = {};
    const agent = await agentSource(config, deps, () => {
      // The agent rotated the SVID (or the bundles): new connections get the new one.
      const server = bound.http?.server as unknown as TlsServer | undefined;
      if (server && agent) server.setSecureContext(httpsFrom(agent.source));
      bound.grpc?.rekey();
    });
    if (agent) closers.push(agent.close);
    const source = agent?.source;
    // The data directory holds keys and the embedded database, which does not create parents.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const app = await createApp(config, {
      ...deps.app,
      clock: deps.clock,
      logger: deps.logger,
      ...(source && { bundles: source, brokerJwtSvid: agentJwtSvidSource(source) }),
    });
    closers.push(() => app.stop());
    const http = await listenHttp(app, config, deps, source && httpsFrom(source));
    bound.http = http;
    closers.push(() => http.close());
    const grpc = await listenGrpc(app, config, deps, source);
    bound.grpc = grpc.server;
    closers.push(grpc.close);
    const workloadApi = await devWorkloadApi(app, deps);
    if (workloadApi) closers.push(() => workloadApi.stop());
    const reload = () => reloadPolicy(app, log);
    const unsubscribe = deps.onReloadSignal?.(() => void reload());
    if (unsubscribe) closers.push(unsubscribe);
    const httpUrl = boundUrl(http, source !== undefined);
    const grpcUrl = grpc.server.tcpAddress();
    log.info(
      {
        url: httpUrl,
        grpc: grpc.server.socketAddress(),
        grpc_tcp: grpcUrl,
        workload_api: workloadApi?.address,
      },
      'broker listening',
    );
    return Object.freeze({
      app,
      httpUrl,
      tls: source !== undefined,
      workloadApi: workloadApi?.address,
      grpcSocket: grpc.server.socketAddress() as string,
      grpcUrl,
      reload,
      stop: stopAll,
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** In `workload-api` mode: the agent's SVIDs and bundles, once the first of each has arrived. */
async function agentSource(
  config: BrokerConfig,
  deps: BrokerDeps,
  onUpdate: () => void,
): Promise<{ source: WorkloadSource; close: () => void } | undefined> {
  if (config.identity.mode !== 'workload-api') return undefined;
  const address = config.identity.address;
  const client = createWorkloadApiClient({ socketPath: address, clock: deps.clock });
  const source = createWorkloadSource({ client, clock: deps.clock, onUpdate });
  const close = (): void => {
    source.close();
    client.close();
  };
  const timeoutMs = deps.agentTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const detail = `no svid from the workload api at ${address} within ${timeoutMs} ms`;
      reject(new BrokerError('BROKER_CONFIG_INVALID', detail));
    }, timeoutMs);
  });
  try {
    await Promise.race([source.ready(), timeout]);
    return { source, close };
  } catch (err) {
    close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** HTTPS options from the agent's current SVID and bundles. */
function httpsFrom(source: WorkloadSource): BrokerHttpsOptions {
  return brokerHttpsOptions(source.x509Svid(), source.bundles().bundles());
}

async function listenHttp(
  app: App,
  config: BrokerConfig,
  deps: BrokerDeps,
  https: BrokerHttpsOptions | undefined,
): Promise<FastifyInstance> {
  const http = createHttpServer(httpPortsFromApp(app), {
    logger: deps.logger,
    baseUrl: config.issuer,
    metrics: new Registry(),
    ...(https && { https }),
    ...(deps.version !== undefined && { version: deps.version }),
  });
  try {
    await app.start();
    await http.listen({ host: config.http.host, port: config.http.port });
    return http;
  } catch (err) {
    await http.close();
    throw err;
  }
}

/**
 * The gRPC API (`taskpass.v1.Broker`) over the same ports as HTTP: on the Unix socket, and on TCP with
 * mutual TLS when configured, presenting the broker's X509-SVID: the agent's (rotated with it) in
 * `workload-api` mode, else one minted from the development CA as `spiffe://<td>/taskpass/broker`
 * (with DNS SAN `localhost`, for clients that check a host name) and re-minted at half its lifetime.
 */
async function listenGrpc(
  app: App,
  config: BrokerConfig,
  deps: BrokerDeps,
  source: WorkloadSource | undefined,
): Promise<{ server: GrpcServer; close: () => Promise<void> }> {
  const tcp = config.grpc.tcp;
  const bound: { server?: GrpcServer } = {};
  let svid: RotatingSvid | undefined;
  let identity: (() => GrpcTlsIdentity) | undefined;
  if (tcp && source) identity = () => ({ svid: source.x509Svid(), bundles: source.bundles().bundles() });
  else if (tcp) {
    const ca = app.devCa;
    if (ca === undefined)
      throw new BrokerError('BROKER_CONFIG_INVALID', 'grpc tcp needs an x509-svid source');
    const minted = await createDevCaSvid({
      ca,
      clock: deps.clock,
      logger: deps.logger.child({ component: 'grpc' }),
      onRotate: () => bound.server?.rekey(),
      dnsNames: ['localhost'],
      ...(deps.app?.timers && { timers: deps.app.timers }),
    });
    svid = minted;
    identity = () => ({ svid: minted.current(), bundles: [ca.bundle()] });
  }
  const server = createGrpcServer(httpPortsFromApp(app), {
    logger: deps.logger,
    socketPath: config.grpc.socketPath,
    ...(tcp && identity && { tcp: { ...tcp, identity } }),
  });
  bound.server = server;
  const close = async (): Promise<void> => {
    svid?.stop();
    await server.stop();
  };
  try {
    await server.listen();
  } catch (err) {
    await close();
    throw err;
  }
  return { server, close };
}

/** The development Workload API over the app's own CA (one CA for the broker and the socket). */
async function devWorkloadApi(app: App, deps: BrokerDeps): Promise<WorkloadApiServer | undefined> {
  const opts = deps.workloadApi;
  if (opts === undefined) return undefined;
  const ca = app.devCa;
  if (ca === undefined) {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'the development workload api needs the development ca');
  }
  const server = createWorkloadApiServer({
    socketPath: opts.socketPath,
    issuer: ca,
    registrations: opts.registrations,
    clock: deps.clock,
    bundles: createBundleFeed({ local: () => ca.bundle() }),
    logger: deps.logger.child({ component: 'workload-api' }),
    ...(opts.peerCredentials && { peerCredentials: opts.peerCredentials }),
  });
  await server.start();
  return server;
}

async function reloadPolicy(app: App, log: Logger): Promise<ReloadResult> {
  const result = await app.policy.reload();
  if (result.ok) log.info({ changed: result.changed, sha256: result.policy.sha256 }, 'policy reloaded');
  else log.error({ err_code: result.error.code, issues: result.issues.length }, 'policy reload refused');
  return result;
}

/** `http(s)://host:port` of the bound listener (IPv6 hosts in brackets). */
function boundUrl(http: FastifyInstance, tls: boolean): string {
  const address = http.server.address();
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
