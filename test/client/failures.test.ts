// What the client does when no usable answer comes: unreachable, silent, or not the broker's API;
// and the options it refuses at creation. Real sockets on 127.0.0.1, no broker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BrokerApiError } from '../../client/api-error.js';
import { createTaskpassClient, type TaskpassClientOptions } from '../../client/client.js';
import { BrokerError } from '../../broker/errors.js';
import { createDevCa } from '../../spiffe/ca/index.js';
import { systemClock } from '../../spiffe/clock.js';
import { encodeCertificatesPem } from '../../spiffe/pem.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';

const jwtSvid = 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln';

async function listen<T extends Server | NetServer>(server: T): Promise<T & { url: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(server, { url: `http://127.0.0.1:${port}` });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('client failures', () => {
  let silent: NetServer & { url: string };
  let proxy: Server & { url: string };
  const sockets: Socket[] = [];
  let closedPort: string;

  before(async () => {
    // Accepts connections and never answers (nor completes a TLS handshake).
    silent = await listen(createNetServer((socket) => sockets.push(socket)));
    // Answers as a misconfigured proxy would.
    proxy = await listen(
      createHttpServer((req, res) => {
        if (req.url?.includes('redirect')) res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end();
        else if (req.url?.includes('garbage'))
          res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
        else if (req.url?.includes('oauth')) res.writeHead(401).end('{"error":"invalid_token"}');
        else res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>bad gateway</h1>');
      }),
    );
    const probe = await listen(createNetServer());
    closedPort = probe.url;
    await new Promise((resolve) => probe.close(resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('reports a broker that refuses connections as BROKER_CLIENT_UNREACHABLE, naming the system code', async () => {
    const client = createTaskpassClient({ baseUrl: closedPort, credentials: { jwtSvid } });
    const err = await client.listTasks().catch((e: unknown) => e);
    assert.ok(err instanceof BrokerError);
    assert.equal(err.code, 'BROKER_CLIENT_UNREACHABLE');
    assert.match(err.message, /ECONNREFUSED/);
    assert.doesNotMatch(err.message, new RegExp(jwtSvid.replaceAll('.', '\\.')), 'never the token');
  });

  it('gives up on a broker that never answers after timeoutMs, over fetch and over TLS', async () => {
    const plain = createTaskpassClient({ baseUrl: silent.url, credentials: { jwtSvid }, timeoutMs: 200 });
    assert.equal(await codeOf(plain.listTasks()), 'BROKER_CLIENT_TIMEOUT');
    const ca = await createDevCa({ trustDomain: TrustDomain.parse('example.org'), clock: systemClock });
    const tls = createTaskpassClient({
      baseUrl: silent.url.replace('http:', 'https:'),
      credentials: { jwtSvid },
      tls: { ca: encodeCertificatesPem(ca.bundle().x509Authorities) },
      timeoutMs: 200,
    });
    // The TLS handshake never completes: the whole exchange is bounded, not just the answer.
    assert.equal(await codeOf(tls.listTasks()), 'BROKER_CLIENT_TIMEOUT');
  });

  it('turns answers that are not the API JSON into BROKER_CLIENT_BAD_RESPONSE', async () => {
    const client = (path: string) =>
      createTaskpassClient({ baseUrl: `${proxy.url}/${path}`, credentials: { jwtSvid } });
    assert.equal(await codeOf(client('gateway').listTasks()), 'BROKER_CLIENT_BAD_RESPONSE');
    assert.equal(await codeOf(client('garbage').listTasks()), 'BROKER_CLIENT_BAD_RESPONSE');
    // A redirect is not followed: it could carry the bearer SVID elsewhere.
    assert.equal(await codeOf(client('redirect').listTasks()), 'BROKER_CLIENT_BAD_RESPONSE');
    // An OAuth error without our error_code keeps the RFC 6749 error value as its code.
    const oauth = await client('oauth')
      .introspect('t')
      .catch((e: unknown) => e);
    assert.ok(oauth instanceof BrokerApiError);
    assert.equal(oauth.code, 'invalid_token');
    assert.equal(oauth.status, 401);
  });

  it('keeps a base URL path prefix', async () => {
    const seen: string[] = [];
    const server = await listen(
      createHttpServer((req, res) => {
        seen.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"tasks":[],"next_cursor":null}');
      }),
    );
    try {
      const client = createTaskpassClient({ baseUrl: `${server.url}/taskpass`, credentials: { jwtSvid } });
      assert.deepEqual(await client.listTasks({ status: 'active', limit: 5 }), {
        tasks: [],
        next_cursor: null,
      });
      assert.deepEqual(seen, ['/taskpass/v1/tasks?status=active&limit=5']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses unusable options at creation with BROKER_CONFIG_INVALID', () => {
    const x509 = { cert: '', key: '' };
    const cases: [string, TaskpassClientOptions][] = [
      ['not a url', { baseUrl: 'not a url', credentials: { jwtSvid } }],
      ['not http', { baseUrl: 'ftp://127.0.0.1/', credentials: { jwtSvid } }],
      ['user info', { baseUrl: 'http://u:p@127.0.0.1:8080', credentials: { jwtSvid } }],
      ['query', { baseUrl: 'http://127.0.0.1:8080/?a=b', credentials: { jwtSvid } }],
      [
        'bearer over plain http off loopback',
        { baseUrl: 'http://broker.example:8080', credentials: { jwtSvid } },
      ],
      ['x509 over plain http', { baseUrl: 'http://127.0.0.1:8080', credentials: { x509 } }],
      [
        'ca over plain http',
        { baseUrl: 'http://127.0.0.1:8080', credentials: { jwtSvid }, tls: { ca: 'x' } },
      ],
      ['zero timeout', { baseUrl: 'http://127.0.0.1:8080', credentials: { jwtSvid }, timeoutMs: 0 }],
    ];
    for (const [name, opts] of cases) {
      assert.throws(
        () => createTaskpassClient(opts),
        (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_CONFIG_INVALID',
        name,
      );
    }
    for (const baseUrl of [
      'http://127.0.0.1:8080',
      'http://localhost:1',
      'http://[::1]:2',
      'https://broker.example',
    ]) {
      assert.doesNotThrow(() => createTaskpassClient({ baseUrl, credentials: { jwtSvid } }), baseUrl);
    }
    assert.doesNotThrow(() =>
      createTaskpassClient({
        baseUrl: 'http://broker.example',
        credentials: { jwtSvid },
        allowInsecureHttp: true,
      }),
    );
  });
});
