import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { isSpiffeError } from '../../../spiffe/errors.js';
import { parseDerCertificates } from '../../../spiffe/pem.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { X509SvidResponseMessage } from '../../../spiffe/workload-api/proto.js';
import { createWorkloadApiServer } from '../../../spiffe/workload-api/server.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakePeerCredentials } from '../../fakes/fake-peer-credentials.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import {
  codeOf,
  id,
  md,
  myGid,
  myUid,
  openStream,
  registrations,
  startHarness,
  TD,
  unary,
} from './harness.js';

const onLinux = process.platform === 'linux';

describe('Workload API server: security header and caller attestation', () => {
  let issuer: FakeSvidIssuer;
  before(async () => {
    issuer = await FakeSvidIssuer.create(TD);
  });

  describe('without the workload.spiffe.io header', () => {
    let h: Awaited<ReturnType<typeof startHarness>>;
    before(async () => {
      h = await startHarness({ issuer, registrations: registrations([], '/default') });
    });
    after(() => h.close());

    for (const method of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles']) {
      it(`rejects ${method} with InvalidArgument`, async () => {
        const stream = openStream(h.client, method, md(false));
        assert.equal(await codeOf(stream.next()), status.INVALID_ARGUMENT);
      });
    }

    it('rejects FetchJWTSVID with InvalidArgument', async () => {
      const call = unary(h.client, 'FetchJWTSVID', { audience: ['a'] }, md(false));
      assert.equal(await codeOf(call), status.INVALID_ARGUMENT);
    });

    it('rejects ValidateJWTSVID with InvalidArgument', async () => {
      const call = unary(h.client, 'ValidateJWTSVID', { audience: 'a', svid: 'x.y.z' }, md(false));
      assert.equal(await codeOf(call), status.INVALID_ARGUMENT);
    });

    it('rejects a header whose value is not "true"', async () => {
      const metadata = md(false);
      metadata.set('workload.spiffe.io', 'yes');
      assert.equal(
        await codeOf(openStream(h.client, 'FetchX509SVID', metadata).next()),
        status.INVALID_ARGUMENT,
      );
    });
  });

  describe('a caller matching no registration and no default', () => {
    let h: Awaited<ReturnType<typeof startHarness>>;
    before(async () => {
      h = await startHarness({
        issuer,
        registrations: registrations([{ path: '/other', uid: 4242 }]),
        peerCredentials: new FakePeerCredentials({ pid: 1, uid: 1000, gid: 1000 }),
      });
    });
    after(() => h.close());

    it('gets PermissionDenied from FetchX509SVID', async () => {
      assert.equal(await codeOf(openStream(h.client, 'FetchX509SVID').next()), status.PERMISSION_DENIED);
    });

    it('gets PermissionDenied from FetchJWTSVID', async () => {
      assert.equal(
        await codeOf(unary(h.client, 'FetchJWTSVID', { audience: ['a'] })),
        status.PERMISSION_DENIED,
      );
    });

    it('gets PermissionDenied from the bundle streams (no unauthenticated verifiers by default)', async () => {
      assert.equal(await codeOf(openStream(h.client, 'FetchX509Bundles').next()), status.PERMISSION_DENIED);
      assert.equal(await codeOf(openStream(h.client, 'FetchJWTBundles').next()), status.PERMISSION_DENIED);
    });
  });

  describe('an unattested caller (no credentials) with a default identity', () => {
    it('gets the default identity', async () => {
      const h = await startHarness({
        issuer,
        registrations: registrations([{ path: '/by-uid', uid: myUid() }], '/dev'),
        peerCredentials: new FakePeerCredentials(undefined),
      });
      try {
        const msg = await openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID').next();
        assert.deepEqual(
          msg.svids.map((s) => s.spiffe_id),
          [id('/dev').toString()],
        );
      } finally {
        await h.close();
      }
    });
  });

  describe(
    'SO_PEERCRED attestation of this very process',
    { skip: !onLinux && 'SO_PEERCRED is Linux only' },
    () => {
      let h: Awaited<ReturnType<typeof startHarness>>;
      before(async () => {
        h = await startHarness({
          issuer,
          registrations: registrations(
            [
              { path: '/someone-else', uid: myUid() + 1 },
              { path: '/me', uid: myUid(), hint: 'internal' },
              { path: '/my-group', gid: myGid() },
              { path: '/me-and-other-group', uid: myUid(), gid: myGid() + 1 },
            ],
            '/dev',
          ),
        });
      });
      after(() => h.close());

      it('issues exactly the identities whose uid/gid selectors match, in entry order', async () => {
        const msg = await openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID').next();
        assert.deepEqual(
          msg.svids.map((s) => s.spiffe_id),
          [id('/me').toString(), id('/my-group').toString()],
        );
        assert.equal(msg.svids[0]?.hint, 'internal');
      });

      it('sends each SVID with its chain, PKCS#8 key and the trust domain bundle', async () => {
        const msg = await openStream<X509SvidResponseMessage>(h.client, 'FetchX509SVID').next();
        const first = msg.svids[0];
        assert.ok(first);
        const [leaf] = parseDerCertificates(first.x509_svid);
        assert.ok(leaf);
        const roots = parseDerCertificates(first.bundle);
        assert.equal(roots.length, 1);
        assert.ok(roots[0]?.equal(issuer.bundle().x509Authorities[0] as never));
        assert.ok(first.x509_svid_key.length > 0);
        assert.deepEqual(msg.federated_bundles, {});
      });
    },
  );

  describe('configuration', () => {
    it('rejects a registration outside the issuer trust domain', () => {
      assert.throws(
        () =>
          createWorkloadApiServer({
            socketPath: '/tmp/never-used.sock',
            issuer,
            registrations: { entries: [], default: { spiffeId: SpiffeId.parse('spiffe://other.org/x') } },
            clock: new FakeClock(),
          }),
        (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_REGISTRATION'),
      );
    });

    it('rejects a tcp address: the server listens on Unix sockets only', () => {
      assert.throws(
        () =>
          createWorkloadApiServer({
            socketPath: 'tcp://127.0.0.1:1',
            issuer,
            registrations: registrations([]),
            clock: new FakeClock(),
          }),
        (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_ARGUMENT'),
      );
    });

    it('creates the socket with the configured mode (0770 by default)', async () => {
      const h = await startHarness({ issuer, registrations: registrations([], '/dev') });
      const custom = await startHarness({
        issuer,
        registrations: registrations([], '/dev'),
        socketMode: 0o700,
      });
      try {
        assert.equal((await stat(h.server.socketPath)).mode & 0o777, 0o770);
        assert.equal((await stat(custom.server.socketPath)).mode & 0o777, 0o700);
      } finally {
        await h.close();
        await custom.close();
      }
    });

    it('refuses a socket path another server is listening on, and leaves that socket alone', async () => {
      const live = await startHarness({ issuer, registrations: registrations([], '/dev') });
      const second = createWorkloadApiServer({
        socketPath: live.server.socketPath,
        issuer,
        registrations: registrations([], '/dev'),
        clock: new FakeClock(),
      });
      try {
        await assert.rejects(second.start(), (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_ARGUMENT'));
        await second.stop();
        assert.ok((await stat(live.server.socketPath)).isSocket());
        await openStream(live.client, 'FetchX509SVID').next();
      } finally {
        await live.close();
      }
    });

    it('refuses a socket path that holds a regular file', async () => {
      const h = await startHarness({ issuer, registrations: registrations([], '/dev') });
      const file = join(h.dir, 'not-a-socket');
      await writeFile(file, 'x');
      const server = createWorkloadApiServer({
        socketPath: file,
        issuer,
        registrations: registrations([]),
        clock: new FakeClock(),
      });
      try {
        await assert.rejects(server.start(), (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_ARGUMENT'));
        assert.equal(await readFile(file, 'utf8'), 'x');
      } finally {
        await h.close();
      }
    });

    it('removes its socket file on stop', async () => {
      const h = await startHarness({ issuer, registrations: registrations([], '/dev') });
      await h.server.stop();
      await assert.rejects(stat(h.server.socketPath), { code: 'ENOENT' });
      await h.close();
    });
  });
});
