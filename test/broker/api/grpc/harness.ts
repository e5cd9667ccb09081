// A real broker app (PGlite in memory, the development CA, the example policy) behind the gRPC
// server, on a Unix socket in a temp dir and on TCP+mTLS on 127.0.0.1, with grpc-js clients.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { httpPortsFromApp } from '../../../../broker/api/app-ports.js';
import { loadBrokerProto } from '../../../../broker/api/grpc/proto.js';
import { createGrpcServer, type GrpcServer } from '../../../../broker/api/grpc/server.js';
import { ERROR_CODE_METADATA } from '../../../../broker/api/grpc/status.js';
import type { HttpPorts } from '../../../../broker/api/ports.js';
import { createApp, type App } from '../../../../broker/app.js';
import { parseConfig } from '../../../../broker/config.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import type { SpiffeBundle } from '../../../../spiffe/bundle.js';
import type { DevCa } from '../../../../spiffe/ca/index.js';
import { encodeCertificatesPem } from '../../../../spiffe/pem.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type { X509Svid } from '../../../../spiffe/svid.js';
import { spiffeCheckServerIdentity } from '../../../../spiffe/tls.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { repositoryRoot } from '../../../support/repo-root.js';
import { staticSource } from '../../../support/test-ca.js';

/** Workload, operator and auditor in examples/policy.yaml. */
export const DEV_WORKLOAD = 'spiffe://taskpass.local/dev/workload';
/** A workload of examples/policy.yaml that is neither operator nor auditor. */
export const AGENT = 'spiffe://taskpass.local/agents/demo';
/** The broker's identity on its TLS listener. */
export const BROKER_ID = 'spiffe://taskpass.local/taskpass/broker';

/** The outcome of one call: the response, or the refusal with its status and taskpass code. */
export interface Outcome<T = Record<string, unknown>> {
  readonly value?: T;
  readonly status?: grpc.status;
  readonly code?: string;
  readonly details?: string;
}

/** A Broker client: `call(method, request, metadata)` resolves with the {@link Outcome}. */
export interface TestClient {
  call<T = Record<string, unknown>>(
    method: string,
    request: object,
    metadata?: grpc.Metadata,
  ): Promise<Outcome<T>>;
  readonly raw: grpc.Client;
  close(): void;
}

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/**
 * A decoded message without proto-loader's virtual oneof members (`target: 'task_id'`, and
 * `_field: 'field'` for each proto3 `optional` field that is set).
 */
export function withoutVirtualFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVirtualFields);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, v]) => [k, withoutVirtualFields(v)]),
  );
}

/** Wraps a grpc-js client of the Broker service. */
export function wrapClient(raw: grpc.Client): TestClient {
  const methods = raw as unknown as Record<
    string,
    (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, value?: unknown) => void) => void
  >;
  return {
    raw,
    call<T>(method: string, request: object, metadata = new grpc.Metadata()) {
      return new Promise<Outcome<T>>((resolve) => {
        methods[method]!.call(raw, request, metadata, (err, value) => {
          if (err === null) resolve({ value: withoutVirtualFields(value) as T });
          else {
            const code = err.metadata?.get(ERROR_CODE_METADATA)[0];
            resolve({
              status: err.code,
              details: err.details,
              ...(typeof code === 'string' && { code }),
            });
          }
        });
      });
    },
    close: () => raw.close(),
  };
}

/** The app, its ports, the gRPC server and ways to reach it. */
export interface Harness {
  readonly app: App;
  readonly ports: HttpPorts;
  readonly server: GrpcServer;
  readonly clock: FakeClock;
  readonly ca: DevCa;
  readonly socketPath: string;
  /** A fresh JWT-SVID of `id` (audience: the broker's unless given). */
  jwt(id: string, audience?: string): Promise<string>;
  /** An X509-SVID of `id` from the development CA. */
  x509(id: string): Promise<X509Svid>;
  /** A client over the Unix socket. */
  unixClient(): TestClient;
  /** A client over TCP+TLS, presenting `svid` when given; `seen` collects the server certificates. */
  tlsClient(svid?: X509Svid, seen?: Buffer[]): TestClient;
  /** Mints a new broker X509-SVID and rekeys the TLS listener with it; returns its leaf (DER). */
  rotateBrokerSvid(): Promise<Buffer>;
  /** How many ledger events there are (to prove a refusal changed nothing). */
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the harness. The clock is real time, frozen: Node checks TLS validity on the wall clock. */
export async function startHarness(
  opts: {
    ports?: (ports: HttpPorts) => HttpPorts;
    maxMessageBytes?: number;
    /** Further roots the TLS layer accepts client certificates under (the app does not trust them). */
    extraTlsBundles?: readonly SpiffeBundle[];
  } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-grpc-'));
  const clock = new FakeClock(new Date());
  const config = parseConfig({
    env: {
      TASKPASS_DATA_DIR: dir,
      TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
    },
    cwd: dir,
  });
  const logger = pino({ level: 'silent' });
  const app = await createApp(config, {
    clock,
    logger,
    timers: clock,
    executor: await createPgliteExecutor(),
    taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
    watchPolicy: false,
  });
  await app.start();
  const ca = app.devCa!;
  let brokerSvid = await ca.mintX509Svid({ id: SpiffeId.parse(BROKER_ID), now: clock.now() });
  const ports = (opts.ports ?? ((p) => p))(httpPortsFromApp(app));
  const socketPath = join(dir, 'broker.sock');
  const server = createGrpcServer(ports, {
    logger,
    socketPath,
    tcp: {
      host: '127.0.0.1',
      port: 0,
      identity: () => ({ svid: brokerSvid, bundles: [ca.bundle(), ...(opts.extraTlsBundles ?? [])] }),
    },
    ...(opts.maxMessageBytes !== undefined && { maxMessageBytes: opts.maxMessageBytes }),
  });
  await server.listen();
  const { Client } = loadBrokerProto();
  const clients: TestClient[] = [];
  const track = (c: TestClient): TestClient => {
    clients.push(c);
    return c;
  };
  const rootsPem = Buffer.from(encodeCertificatesPem(ca.bundle().x509Authorities));
  return {
    app,
    ports,
    server,
    clock,
    ca,
    socketPath,
    async jwt(id, audience = config.audience) {
      const svid = await ca.mintJwtSvid({ id: SpiffeId.parse(id), now: clock.now(), audience: [audience] });
      return svid.token;
    },
    x509: (id) => ca.mintX509Svid({ id: SpiffeId.parse(id), now: clock.now() }),
    unixClient: () =>
      track(wrapClient(new Client(`unix://${socketPath}`, grpc.credentials.createInsecure()))),
    tlsClient(svid, seen) {
      const check = spiffeCheckServerIdentity((id) => id.toString() === BROKER_ID, staticSource(ca.bundle()));
      const creds = grpc.credentials.createSsl(
        rootsPem,
        svid ? Buffer.from(svid.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) : null,
        svid ? Buffer.from(encodeCertificatesPem(svid.certificates)) : null,
        {
          // The broker is authenticated by its SPIFFE ID, not a DNS name (X509-SVID spec §5.2).
          checkServerIdentity: (host, cert) => {
            seen?.push(cert.raw);
            return check(host, cert);
          },
        },
      );
      return track(wrapClient(new Client(server.tcpAddress()!, creds)));
    },
    async rotateBrokerSvid() {
      brokerSvid = await ca.mintX509Svid({ id: SpiffeId.parse(BROKER_ID), now: clock.now() });
      server.rekey();
      return Buffer.from(brokerSvid.certificates[0]!.rawData);
    },
    async eventCount() {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await app.store.queryEvents({ limit: 1000, ...(cursor && { cursor }) });
        count += page.items.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return count;
    },
    async close() {
      for (const c of clients) c.close();
      await server.stop();
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
