// The SSE route's transport duties over a fake feed port (the feed itself has its own suites):
// heartbeats, and closing a client that stops reading instead of buffering without bound.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyInstance } from 'fastify';
import type { HttpPorts, RevocationFeedEvent, RevocationFeedPort } from '../../../../broker/api/ports.js';
import { registerErrorHandling } from '../../../../broker/api/http/error-handler.js';
import { registerRevocationStreamRoutes } from '../../../../broker/api/http/routes/revocation-stream.js';
import { spiffeIdLiteral } from '../../../support/test-ca.js';
import { openSse } from '../../../support/sse-reader.js';

/** A feed port that records its subscribers and lets the test push live events to them. */
class FakeFeed implements RevocationFeedPort {
  readonly subscribers = new Set<(e: RevocationFeedEvent) => void>();
  unsubscribed = 0;
  async subscribe(
    _caller: unknown,
    _opts: { afterSeq?: string },
    onEvent: (e: RevocationFeedEvent) => void | Promise<void>,
  ): Promise<() => void> {
    const push = (e: RevocationFeedEvent) => void onEvent(e);
    this.subscribers.add(push);
    return () => {
      this.unsubscribed += 1;
      this.subscribers.delete(push);
    };
  }
  push(e: RevocationFeedEvent): void {
    for (const s of this.subscribers) s(e);
  }
}

function event(seq: number, padding = ''): RevocationFeedEvent {
  return {
    seq: String(seq),
    type: 'task.revoked',
    occurred_at: '2025-01-01T00:00:00.000Z',
    task_id: padding,
    credential_id: null,
    workload: null,
    provider: null,
    jti: null,
    expires_at: null,
  };
}

async function serve(feed: FakeFeed, opts: { heartbeatMs?: number; maxQueuedBytes?: number }) {
  const app = fastify() as unknown as FastifyInstance;
  app.decorateRequest('caller', null);
  registerErrorHandling(app);
  const ports = {
    authenticate: async () => ({
      id: spiffeIdLiteral('spiffe://example.org/tool'),
      via: 'jwt-svid' as const,
      svidExpiresAt: new Date('2100-01-01T00:00:00Z'),
    }),
    revocationFeed: feed,
  } as unknown as HttpPorts;
  await app.register(registerRevocationStreamRoutes, { ports, ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe('revocation stream transport', () => {
  const apps: FastifyInstance[] = [];
  after(() => Promise.all(apps.map((a) => a.close())));

  it('sends heartbeat comments while idle', async () => {
    const { app, url } = await serve(new FakeFeed(), { heartbeatMs: 10 });
    apps.push(app);
    const r = await openSse(`${url}/v1/revocations/stream`, { authorization: 'Bearer x' });
    await r.until(() => r.comments.filter((c) => c === 'heartbeat').length >= 2);
    r.close();
  });

  it('closes a client that stops reading once its queue passes the limit, and unsubscribes it', async () => {
    const feed = new FakeFeed();
    const { app, url } = await serve(feed, { maxQueuedBytes: 64 * 1024 });
    apps.push(app);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        `${url}/v1/revocations/stream`,
        { headers: { authorization: 'Bearer x' } },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    res.pause();
    const ended = new Promise<void>((resolve) => res.on('close', () => resolve()));
    const big = 'x'.repeat(16 * 1024);
    // Far more than socket buffers and the limit hold: the server must give up on this client.
    for (let i = 1; i <= 2000 && feed.subscribers.size > 0; i++) feed.push(event(i, big));
    assert.equal(feed.subscribers.size, 0, 'dropped before all 32 MB were queued');
    assert.equal(feed.unsubscribed, 1);
    res.resume();
    await ended;
  });
});
