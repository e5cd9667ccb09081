import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { brokerHttpsOptions } from '../../../../broker/api/http/tls.js';
import { createDevCa, type DevCa } from '../../../../spiffe/ca/index.js';
import { systemClock } from '../../../../spiffe/clock.js';
import { spiffeCheckServerIdentity, svidTlsOptions } from '../../../../spiffe/tls.js';
import type { X509Svid } from '../../../../spiffe/svid.js';
import { TrustDomain } from '../../../../spiffe/trust-domain.js';
import { verifyX509Svid } from '../../../../spiffe/x509-svid.js';
import { spiffeIdLiteral, staticSource } from '../../../support/test-ca.js';
import { harness, TOKENS, WORKLOAD, type Harness } from './fakes.js';

const BROKER_ID = spiffeIdLiteral('spiffe://example.org/taskpass/broker');

interface Answer {
  status: number;
  body: { error?: { code: string }; id?: string };
}

describe('HTTPS with the broker X509-SVID (real sockets on 127.0.0.1)', () => {
  let ca: DevCa;
  let client: X509Svid;
  let h: Harness;
  let port: number;
  let taskId: string;

  before(async () => {
    // Node checks certificate validity against the wall clock, so this PKI lives in real time.
    ca = await createDevCa({ trustDomain: TrustDomain.parse('example.org'), clock: systemClock });
    const now = systemClock.now();
    const server = await ca.mintX509Svid({ id: BROKER_ID, now });
    client = await ca.mintX509Svid({ id: WORKLOAD, now });
    h = harness({ https: brokerHttpsOptions(server, ca.bundle()) });
    taskId = h.fake.seedTask().id;
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = (h.app.server.address() as AddressInfo).port;
  });
  after(() => h.app.close());

  function get(path: string, opts: { svid?: X509Svid; headers?: Record<string, string> }): Promise<Answer> {
    const source = staticSource(ca.bundle());
    const tlsOpts = opts.svid
      ? svidTlsOptions(opts.svid, ca.bundle())
      : { ca: svidTlsOptions(client, ca.bundle()).ca };
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'GET',
          headers: opts.headers ?? {},
          ...tlsOpts,
          // The broker is authenticated by its SPIFFE ID, not a DNS name (X509-SVID spec §5.2).
          checkServerIdentity: spiffeCheckServerIdentity((id) => id.equals(BROKER_ID), source),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('hands the presented client chain to Authenticate, where it verifies as an X509-SVID', async () => {
    const answer = await get(`/v1/tasks/${taskId}`, { svid: client });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.id, taskId);
    const facts = h.fake.authCalls.at(-1);
    assert.equal(facts?.bearer, undefined);
    const chain = facts?.peerCertificates ?? [];
    assert.ok(chain.length >= 1);
    assert.deepEqual(Buffer.from(chain[0]!.rawData), Buffer.from(client.certificates[0]!.rawData));
    const verified = await verifyX509Svid(chain, staticSource(ca.bundle()), { now: systemClock.now() });
    assert.ok(verified.id.equals(WORKLOAD));
  });

  it('lets a client without a certificate connect, and refuses it 401 without a bearer token', async () => {
    const answer = await get(`/v1/tasks/${taskId}`, {});
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error?.code, 'BROKER_AUTH_MISSING');
  });

  it('authenticates a bearer JWT-SVID on the same TLS listener', async () => {
    const answer = await get(`/v1/tasks/${taskId}`, {
      headers: { authorization: `Bearer ${TOKENS.workload}` },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(h.fake.authCalls.at(-1), { bearer: TOKENS.workload });
  });

  it('serves unauthenticated routes without asking for anything', async () => {
    const answer = await get('/healthz', {});
    assert.equal(answer.status, 200);
  });
});
