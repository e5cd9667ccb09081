// The gRPC API as startBroker serves it: configuration, the Unix socket, TCP+mTLS with the broker's
// own X509-SVID from the development CA, and a clean stop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { createMemoryTaskTokenKeyStore } from '../../../../adapters/jwt/key-store.js';
import { loadBrokerProto } from '../../../../broker/api/grpc/proto.js';
import { parseConfig } from '../../../../broker/config.js';
import { startBroker } from '../../../../broker/server.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import { systemClock } from '../../../../spiffe/clock.js';
import { encodeCertificatesPem } from '../../../../spiffe/pem.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { spiffeCheckServerIdentity } from '../../../../spiffe/tls.js';
import { repositoryRoot } from '../../../support/repo-root.js';
import { staticSource } from '../../../support/test-ca.js';
import { bearer, BROKER_ID, DEV_WORKLOAD, wrapClient } from './harness.js';

describe('gRPC configuration', () => {
  const parse = (env: Record<string, string>, file?: unknown) =>
    parseConfig({ env, cwd: '/srv', ...(file !== undefined && { file }) });

  it('serves TCP only when a port is given, on 127.0.0.1 by default', () => {
    assert.equal(parse({}).grpc.tcp, undefined);
    assert.deepEqual(parse({ TASKPASS_GRPC_PORT: '50051' }).grpc.tcp, { host: '127.0.0.1', port: 50051 });
  });

  it('reads grpc.tcp from the file, the environment winning', () => {
    const file = { grpc: { socket: 'run/b.sock', tcp: { host: '0.0.0.0', port: 7443 } } };
    const fromFile = parse({}, file).grpc;
    assert.deepEqual(fromFile, { socketPath: '/srv/run/b.sock', tcp: { host: '0.0.0.0', port: 7443 } });
    assert.deepEqual(parse({ TASKPASS_GRPC_PORT: '9000', TASKPASS_GRPC_HOST: '::1' }, file).grpc.tcp, {
      host: '::1',
      port: 9000,
    });
  });

  for (const bad of ['http', '-1', '65536', '1.5']) {
    it(`refuses the gRPC port ${JSON.stringify(bad)}, naming the setting`, () => {
      assert.throws(
        () => parse({ TASKPASS_GRPC_PORT: bad }),
        (err: { code: string; problems: string[] }) => {
          assert.equal(err.code, 'BROKER_CONFIG_INVALID');
          assert.ok(err.problems.some((p) => p.startsWith('grpc.tcp.port')));
          return true;
        },
      );
    });
  }
});

describe('startBroker serves taskpass.v1.Broker', { timeout: 60_000 }, () => {
  it('on its Unix socket and on TCP+mTLS with spiffe://<td>/taskpass/broker, and removes the socket on stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-grpc-start-'));
    const config = parseConfig({
      env: {
        TASKPASS_DATA_DIR: dir,
        TASKPASS_POLICY_FILE: join(repositoryRoot(), 'examples', 'policy.yaml'),
        TASKPASS_HTTP_PORT: '0',
        TASKPASS_GRPC_PORT: '0',
      },
      cwd: dir,
    });
    const broker = await startBroker(config, {
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      app: {
        executor: await createPgliteExecutor(),
        taskTokenKeyStore: createMemoryTaskTokenKeyStore(),
        watchPolicy: false,
      },
    });
    const { Client } = loadBrokerProto();
    const clients: grpc.Client[] = [];
    try {
      assert.equal(broker.grpcSocket, `unix://${join(dir, 'broker.sock')}`);
      assert.match(broker.grpcUrl ?? '', /^127\.0\.0\.1:\d+$/);
      const ca = broker.app.devCa!;
      const now = systemClock.now();

      const unix = new Client(broker.grpcSocket, grpc.credentials.createInsecure());
      clients.push(unix);
      const jwt = await ca.mintJwtSvid({
        id: SpiffeId.parse(DEV_WORKLOAD),
        now,
        audience: [config.audience],
      });
      const missing = await wrapClient(unix).call(
        'GetTask',
        { id: '00000000-0000-4000-8000-000000000000' },
        bearer(jwt.token),
      );
      assert.equal(missing.status, grpc.status.NOT_FOUND);
      assert.equal(missing.code, 'BROKER_TASK_NOT_FOUND');

      const svid = await ca.mintX509Svid({ id: SpiffeId.parse(DEV_WORKLOAD), now });
      const seen: Buffer[] = [];
      const check = spiffeCheckServerIdentity((id) => id.toString() === BROKER_ID, staticSource(ca.bundle()));
      const creds = grpc.credentials.createSsl(
        Buffer.from(encodeCertificatesPem(ca.bundle().x509Authorities)),
        Buffer.from(svid.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
        Buffer.from(encodeCertificatesPem(svid.certificates)),
        {
          checkServerIdentity: (host, cert) => {
            seen.push(cert.raw);
            return check(host, cert);
          },
        },
      );
      const tcp = new Client(broker.grpcUrl!, creds);
      clients.push(tcp);
      const list = await wrapClient(tcp).call('ListTasks', {});
      assert.equal(list.status, undefined, list.details);
      const sans = new X509Certificate(seen[0]!).subjectAltName ?? '';
      assert.match(sans, /URI:spiffe:\/\/taskpass\.local\/taskpass\/broker/);
      assert.match(sans, /DNS:localhost/);
    } finally {
      for (const c of clients) c.close();
      await broker.stop();
    }
    assert.equal(existsSync(join(dir, 'broker.sock')), false);
    await rm(dir, { recursive: true, force: true });
  });
});
