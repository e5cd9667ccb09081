// A real broker for client and CLI suites: startBroker with embedded PGlite in a temp data directory,
// the development CA, the development Workload API socket, the example policy, on a free port.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { httpPortsFromApp } from '../../broker/api/app-ports.js';
import { createHttpServer } from '../../broker/api/http/server.js';
import { brokerHttpsOptions } from '../../broker/api/http/tls.js';
import { loadConfig } from '../../broker/config.js';
import { startBroker, type RunningBroker } from '../../broker/server.js';
import { systemClock } from '../../spiffe/clock.js';
import { encodeCertificatesPem } from '../../spiffe/pem.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { createRegistrations } from '../../spiffe/workload-api/index.js';
import { repositoryRoot } from './repo-root.js';

/** Operator, auditor and workload in examples/policy.yaml. */
export const DEV_WORKLOAD = 'spiffe://taskpass.local/dev/workload';
/** A workload of examples/policy.yaml that is neither operator nor auditor. */
export const AGENT = 'spiffe://taskpass.local/agents/demo';
/** The broker's own identity on its HTTPS listener. */
export const BROKER_ID = 'spiffe://taskpass.local/taskpass/broker';

/** A broker running for one suite, with helpers to mint identities from its development CA. */
export interface TestBroker {
  readonly broker: RunningBroker;
  readonly url: string;
  /** `unix:///…` of the development Workload API (gives {@link DEV_WORKLOAD} to every local caller). */
  readonly socket: string;
  readonly dir: string;
  /** The development CA's roots, PEM, in `<dir>/bundle.pem`. */
  readonly bundlePem: string;
  /** A JWT-SVID of `id` for the broker's audience (or `audience`). */
  jwt(id: string, opts?: { audience?: string; ttlSeconds?: number }): Promise<string>;
  /** Writes a JWT-SVID of `id` to a file and returns its path. */
  jwtFile(id: string): Promise<string>;
  /** Mints an X509-SVID of `id` into `<dir>/<name>/{svid.pem,svid.key}` and returns the paths. */
  x509Files(id: string, name: string): Promise<{ cert: string; key: string }>;
  /** A second listener over the same app serving HTTPS with the broker's X509-SVID ({@link BROKER_ID}). */
  https(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a broker in a fresh temp directory, with examples/policy.yaml unless `policyFile` is given. */
export async function startTestBroker(opts: { policyFile?: string } = {}): Promise<TestBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-broker-'));
  const config = await loadConfig({
    env: {
      TASKPASS_DATA_DIR: join(dir, 'data'),
      TASKPASS_POLICY_FILE: opts.policyFile ?? join(repositoryRoot(), 'examples', 'policy.yaml'),
      TASKPASS_HTTP_PORT: '0',
    },
    cwd: dir,
  });
  const broker = await startBroker(config, {
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    workloadApi: {
      socketPath: join(dir, 'w.sock'),
      registrations: createRegistrations(
        { entries: [], default: { spiffeId: SpiffeId.parse(DEV_WORKLOAD) } },
        config.trustDomain,
      ),
    },
  });
  const ca = broker.app.devCa!;
  const bundlePem = join(dir, 'bundle.pem');
  await writeFile(bundlePem, encodeCertificatesPem(ca.bundle().x509Authorities));
  const extra: FastifyInstance[] = [];
  let files = 0;
  const jwt: TestBroker['jwt'] = async (id, opts = {}) =>
    (
      await ca.mintJwtSvid({
        id: SpiffeId.parse(id),
        now: systemClock.now(),
        audience: [opts.audience ?? broker.app.config.audience],
        ...(opts.ttlSeconds !== undefined && { ttlSeconds: opts.ttlSeconds }),
      })
    ).token;
  return {
    broker,
    url: broker.httpUrl,
    socket: broker.workloadApi!,
    dir,
    bundlePem,
    jwt,
    async jwtFile(id) {
      const path = join(dir, `svid-${++files}.jwt`);
      await writeFile(path, (await jwt(id)) + '\n', { mode: 0o600 });
      return path;
    },
    async x509Files(id, name) {
      const svid = await ca.mintX509Svid({ id: SpiffeId.parse(id), now: systemClock.now() });
      const cert = join(dir, `${name}.pem`);
      const key = join(dir, `${name}.key`);
      await writeFile(cert, encodeCertificatesPem(svid.certificates));
      await writeFile(key, svid.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
        mode: 0o600,
      });
      return { cert, key };
    },
    async https() {
      const svid = await ca.mintX509Svid({ id: SpiffeId.parse(BROKER_ID), now: systemClock.now() });
      const http = createHttpServer(httpPortsFromApp(broker.app), {
        logger: pino({ level: 'silent' }),
        baseUrl: broker.app.config.issuer,
        metrics: new Registry(),
        defaultMetrics: false,
        docs: false,
        https: brokerHttpsOptions(svid, ca.bundle()),
      });
      await http.listen({ host: '127.0.0.1', port: 0 });
      extra.push(http);
      return `https://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    },
    async stop() {
      for (const http of extra) await http.close();
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
