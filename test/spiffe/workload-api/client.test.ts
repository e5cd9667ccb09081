import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSpiffeError, type SpiffeError } from '../../../spiffe/errors.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { verifyX509Svid } from '../../../spiffe/x509-svid.js';
import { createWorkloadApiClient, type WorkloadApiClient } from '../../../spiffe/workload-api/client.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakePeerCredentials } from '../../fakes/fake-peer-credentials.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import { id, registrations, startHarness, TD, type Harness } from './harness.js';

const td = TrustDomain.parse(TD);

describe('Workload API client', () => {
  let issuer: FakeSvidIssuer;
  let h: Harness;
  let client: WorkloadApiClient;
  before(async () => {
    issuer = await FakeSvidIssuer.create(TD);
    h = await startHarness({
      issuer,
      peerCredentials: new FakePeerCredentials({ pid: 1, uid: 1000, gid: 1000 }),
      registrations: registrations([
        { path: '/broker', uid: 1000, hint: 'internal' },
        { path: '/broker-ext', uid: 1000, hint: 'external' },
      ]),
    });
    client = createWorkloadApiClient({ socketPath: h.server.address, clock: h.clock });
  });
  after(async () => {
    client.close();
    await h.close();
  });

  it('fetches an X.509 context whose default SVID verifies against its bundles', async () => {
    const ctx = await client.fetchX509Context();
    assert.deepEqual(
      ctx.svids.map((s) => s.id.toString()),
      [id('/broker').toString(), id('/broker-ext').toString()],
    );
    assert.deepEqual(
      ctx.svids.map((s) => s.hint),
      ['internal', 'external'],
    );
    const svid = ctx.svids[0];
    assert.ok(svid);
    const verified = await verifyX509Svid(svid.certificates, ctx.bundles, { now: h.clock.now() });
    assert.ok(verified.id.equals(id('/broker')));
    assert.equal(svid.privateKey.type, 'private');
    assert.deepEqual(ctx.receivedAt, h.clock.now());
  });

  it('fetches X.509 and JWT bundles of the trust domain', async () => {
    const x509 = await client.fetchX509Bundles();
    assert.equal(x509.getBundleForTrustDomain(td).x509Authorities.length, 1);
    const jwt = await client.fetchJwtBundles();
    assert.deepEqual(
      [...jwt.getBundleForTrustDomain(td).jwtAuthorities.keys()],
      [...issuer.bundle().jwtAuthorities.keys()],
    );
  });

  it('fetches a JWT-SVID and has the endpoint validate it', async () => {
    const svid = await client.fetchJwtSvid({ audience: 'crm-api', spiffeId: id('/broker-ext') });
    assert.ok(svid.id.equals(id('/broker-ext')));
    assert.deepEqual(svid.audience, ['crm-api']);
    const validated = await client.validateJwtSvid(svid.token, 'crm-api');
    assert.ok(validated.id.equals(id('/broker-ext')));
    assert.equal(validated.claims['sub'], id('/broker-ext').toString());
    const all = await client.fetchJwtSvids({ audience: ['crm-api'] });
    assert.equal(all.length, 2);
  });

  const failures: [string, () => Promise<unknown>, SpiffeError['code']][] = [
    ['an empty audience', () => client.fetchJwtSvid({ audience: [] }), 'SPIFFE_WORKLOAD_BAD_ARGUMENT'],
    [
      'an identity it is not entitled to',
      () => client.fetchJwtSvid({ audience: 'a', spiffeId: id('/root') }),
      'SPIFFE_WORKLOAD_NO_IDENTITY',
    ],
    [
      'a token for another audience',
      async () => client.validateJwtSvid((await client.fetchJwtSvid({ audience: 'a' })).token, 'b'),
      'SPIFFE_WORKLOAD_BAD_ARGUMENT',
    ],
  ];
  for (const [name, call, code] of failures) {
    it(`translates the status of ${name} to ${code}`, async () => {
      await assert.rejects(call(), (err) => isSpiffeError(err, code));
    });
  }

  it('reports SPIFFE_WORKLOAD_NO_IDENTITY to a caller the server does not know', async () => {
    const stranger = await startHarness({
      issuer,
      peerCredentials: new FakePeerCredentials({ pid: 1, uid: 5, gid: 5 }),
      registrations: registrations([{ path: '/broker', uid: 1000 }]),
    });
    const c = createWorkloadApiClient({ socketPath: stranger.server.socketPath, clock: stranger.clock });
    try {
      await assert.rejects(c.fetchX509Context(), (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_NO_IDENTITY'));
    } finally {
      c.close();
      await stranger.close();
    }
  });

  it('reports SPIFFE_WORKLOAD_UNAVAILABLE when nothing listens on the socket', async () => {
    const c = createWorkloadApiClient({
      socketPath: `unix://${join(h.dir, 'nobody.sock')}`,
      clock: new FakeClock(),
    });
    try {
      await assert.rejects(c.fetchJwtSvid({ audience: 'a' }), (err) =>
        isSpiffeError(err, 'SPIFFE_WORKLOAD_UNAVAILABLE'),
      );
      await assert.rejects(c.fetchX509Context(), (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_UNAVAILABLE'));
    } finally {
      c.close();
    }
  });

  it('stops its watches on close and fails later calls with SPIFFE_WORKLOAD_UNAVAILABLE', async () => {
    const clock = new FakeClock();
    const c = createWorkloadApiClient({ socketPath: h.server.address, clock, timers: clock });
    const updates: unknown[] = [];
    c.watchX509Context(
      (ctx) => updates.push(ctx),
      () => undefined,
    );
    await new Promise<void>((resolve) => {
      const poll = () => (updates.length > 0 ? resolve() : setTimeout(poll, 10));
      poll();
    });
    c.close();
    clock.advance(60_000);
    assert.equal(clock.pendingTimers, 0);
    await assert.rejects(c.fetchX509Context(), (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_UNAVAILABLE'));
    await assert.rejects(c.fetchJwtSvid({ audience: 'a' }), (err) =>
      isSpiffeError(err, 'SPIFFE_WORKLOAD_UNAVAILABLE'),
    );
  });

  it('rejects an endpoint address that is neither unix nor tcp', () => {
    assert.throws(
      () => createWorkloadApiClient({ socketPath: 'http://127.0.0.1:8080', clock: new FakeClock() }),
      (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_ARGUMENT'),
    );
  });
});
