import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  peerSvid,
  spiffeCheckServerIdentity,
  svidTlsOptions,
  type SpiffeIdAuthorizer,
} from '../../spiffe/tls.js';
import { isSpiffeError, SpiffeError, type SpiffeErrorCode } from '../../spiffe/errors.js';
import type { BundleSource, SpiffeBundle } from '../../spiffe/bundle.js';
import type { X509Svid } from '../../spiffe/svid.js';
import { spiffeIdLiteral, staticSource, TestCa, testBundle } from '../support/test-ca.js';

const SERVER_ID = 'spiffe://example.org/server';
const CLIENT_ID = 'spiffe://example.org/client';

interface Pki {
  bundles: SpiffeBundle[];
  source: BundleSource;
  server: X509Svid;
  client: X509Svid;
  /** Issued by other.org's root but claiming example.org IDs. */
  impostorServer: X509Svid;
  impostorClient: X509Svid;
  twoUriServer: X509Svid;
}

async function pki(): Promise<Pki> {
  // Node checks validity against the wall clock, so this PKI is minted around the real now.
  const root = await TestCa.root('example.org');
  const inter = await root.intermediate();
  const foreign = await TestCa.root('other.org', { keyType: 'rsa-2048' });
  const bundles = [
    testBundle('example.org', { roots: [root.cert] }),
    testBundle('other.org', { roots: [foreign.cert] }),
  ];
  return {
    bundles,
    source: staticSource(...bundles),
    server: (await inter.leaf({ id: SERVER_ID })).svid,
    client: (await root.leaf({ id: CLIENT_ID, keyType: 'rsa-2048' })).svid,
    impostorServer: (await foreign.leaf({ id: SERVER_ID })).svid,
    impostorClient: (await foreign.leaf({ id: CLIENT_ID })).svid,
    twoUriServer: (await inter.leaf({ uris: [SERVER_ID, 'spiffe://example.org/admin'] })).svid,
  };
}

interface Outcome {
  /** What the server saw: the client's SPIFFE ID, or the code it rejected the client with. */
  server: Promise<string>;
  /** What the client saw: the server's SPIFFE ID, or the code of its connection error. */
  client: string;
}

function codeOf(err: unknown): string {
  return isSpiffeError(err) ? err.code : `node:${(err as { code?: string }).code ?? String(err)}`;
}

async function handshake(
  p: Pki,
  serverSvid: X509Svid,
  clientSvid: X509Svid | undefined,
  authorize: SpiffeIdAuthorizer,
): Promise<Outcome> {
  let resolveServer: (value: string) => void = () => undefined;
  const server = new Promise<string>((resolve) => (resolveServer = resolve));
  const srv = tls.createServer(
    { ...svidTlsOptions(serverSvid, p.bundles), rejectUnauthorized: clientSvid !== undefined },
    (socket) => {
      peerSvid(socket, p.source, { now: new Date() }).then(
        (svid) => resolveServer(svid.id.toString()),
        (err: unknown) => resolveServer(codeOf(err)),
      );
      socket.end();
    },
  );
  srv.on('tlsClientError', (err) => resolveServer(codeOf(err)));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  const clientOptions = clientSvid
    ? svidTlsOptions(clientSvid, p.bundles)
    : { ca: svidTlsOptions(serverSvid, p.bundles).ca };
  const client = await new Promise<string>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...clientOptions,
      checkServerIdentity: spiffeCheckServerIdentity(authorize, p.source),
    });
    socket.on('secureConnect', () => {
      peerSvid(socket, p.source, { now: new Date() }).then(
        (svid) => resolve(svid.id.toString()),
        (err: unknown) => resolve(codeOf(err)),
      );
    });
    socket.on('error', (err) => resolve(codeOf(err)));
    socket.on('close', () => resolve('closed'));
    socket.resume();
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  srv.close();
  return { server, client };
}

describe('mTLS with X509-SVIDs on node:tls (127.0.0.1)', () => {
  let p: Pki;
  before(async () => {
    p = await pki();
  });

  const isServer: SpiffeIdAuthorizer = (id) => id.equals(spiffeIdLiteral(SERVER_ID));

  it('authenticates both sides by SPIFFE ID (EC server under an intermediate, RSA client)', async () => {
    const out = await handshake(p, p.server, p.client, isServer);
    assert.equal(out.client, SERVER_ID);
    assert.equal(await out.server, CLIENT_ID);
  });

  const refused: {
    name: string;
    server: (p: Pki) => X509Svid;
    client: (p: Pki) => X509Svid | undefined;
    authorize?: SpiffeIdAuthorizer;
    clientSees?: SpiffeErrorCode;
    serverSees?: SpiffeErrorCode;
  }[] = [
    {
      name: 'client refuses a server whose SPIFFE ID the authorizer rejects',
      server: (p) => p.server,
      client: (p) => p.client,
      authorize: () => false,
      clientSees: 'SPIFFE_MATCH_UNEXPECTED_ID',
    },
    {
      name: 'client passes on the reason a throwing matcher gives',
      server: (p) => p.server,
      client: (p) => p.client,
      authorize: () => {
        throw new SpiffeError('SPIFFE_MATCH_NOT_MEMBER');
      },
      clientSees: 'SPIFFE_MATCH_NOT_MEMBER',
    },
    {
      name: 'client refuses a server chained to another trust domain root that Node trusts',
      server: (p) => p.impostorServer,
      client: (p) => p.client,
      clientSees: 'SPIFFE_X509_UNTRUSTED',
    },
    {
      name: 'client refuses a server leaf with two URI SANs',
      server: (p) => p.twoUriServer,
      client: (p) => p.client,
      clientSees: 'SPIFFE_X509_MULTIPLE_URI_SANS',
    },
    {
      name: 'server refuses a client chained to another trust domain root that Node trusts',
      server: (p) => p.server,
      client: (p) => p.impostorClient,
      serverSees: 'SPIFFE_X509_UNTRUSTED',
    },
    {
      name: 'server finds no SVID when the client presents no certificate',
      server: (p) => p.server,
      client: () => undefined,
      serverSees: 'SPIFFE_X509_EMPTY_CHAIN',
    },
  ];

  for (const c of refused) {
    it(c.name, async () => {
      const out = await handshake(p, c.server(p), c.client(p), c.authorize ?? isServer);
      if (c.clientSees) assert.equal(out.client, c.clientSees);
      if (c.serverSees) assert.equal(await out.server, c.serverSees);
    });
  }
});

describe('svidTlsOptions', () => {
  it('exports the key, the chain and every root of every bundle as PEM', async () => {
    const root = await TestCa.root('example.org');
    const leaf = await (await root.intermediate()).leaf();
    const other = await TestCa.root('other.org');
    const opts = svidTlsOptions(leaf.svid, [
      testBundle('example.org', { roots: [root.cert] }),
      testBundle('other.org', { roots: [other.cert] }),
    ]);
    assert.match(opts.key, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(opts.cert.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(opts.ca.length, 2);
    assert.equal(opts.requestCert, true);
    assert.equal(opts.rejectUnauthorized, true);
  });
});
