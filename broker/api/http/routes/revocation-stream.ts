import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError } from '../../../errors.js';
import type { HttpPorts, RevocationFeedEvent } from '../../ports.js';
import { callerOf, requireCaller } from '../authenticate.js';
import { callerSecurity, errorResponses } from '../schemas.js';

/** Options of {@link registerRevocationStreamRoutes}. */
export interface RevocationStreamOptions {
  readonly ports: HttpPorts;
  /** Interval of the `: heartbeat` comment lines; default 15000 ms. */
  readonly heartbeatMs?: number;
  /** Bytes queued for a slow client before its stream is closed (it resumes); default 1 MiB. */
  readonly maxQueuedBytes?: number;
  /** The reconnection delay suggested to clients (`retry:`); default 2000 ms. */
  readonly retryMs?: number;
}

/** The stream's path. */
export const REVOCATION_STREAM_PATH = '/v1/revocations/stream';

const SEQ_PATTERN = '^(0|[1-9][0-9]{0,18})$';

/** One SSE message (WHATWG HTML §9.2.5): `id`, `event`, one `data` line (JSON has no newline). */
export function sseMessage(event: RevocationFeedEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** One open stream: writes with backpressure, ends once. */
class SseStream {
  #ended = false;
  #drain: Promise<void> | undefined;

  constructor(
    private readonly raw: ServerResponse,
    private readonly maxQueuedBytes: number,
    private readonly onEnd: () => void,
  ) {}

  get ended(): boolean {
    return this.#ended || this.raw.destroyed || this.raw.writableEnded;
  }

  /** Writes `chunk`; resolves when the socket can take more (the catch-up waits on this). */
  write(chunk: string): Promise<void> {
    if (this.ended) return Promise.resolve();
    if (this.raw.writableLength > this.maxQueuedBytes) {
      // A client this far behind would hold unbounded memory: drop it (destroy, since a graceful end
      // would wait for it to read the queue); it reconnects and resumes with Last-Event-ID.
      this.end();
      this.raw.destroy();
      return Promise.resolve();
    }
    if (this.raw.write(chunk)) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        this.#drain = undefined;
        resolve();
      };
      this.raw.on('drain', done);
      this.raw.on('close', done);
    });
    return this.#drain;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.raw.writableEnded) this.raw.end();
    this.onEnd();
  }
}

/**
 * `GET /v1/revocations/stream` (ISSUE 4, "Everywhere, fast"): the revocation feed as server-sent
 * events, for resource servers and operators. Each event is `id: <seq>`, `event: <type>` and `data:` the
 * event as JSON; after the catch-up an `event: caught_up` (no id) says that live events follow; a
 * `: heartbeat` comment every `heartbeatMs` keeps proxies from timing the connection out.
 * Resume with the `Last-Event-ID` header (as EventSource does) or `?after=<seq>`; the header wins.
 *
 * Errors before the stream starts (authentication, role, a malformed position) are ordinary JSON
 * errors. Afterwards the stream just ends: on broker stop, on a store failure, or when the client
 * falls more than `maxQueuedBytes` behind; the client reconnects and resumes, losing nothing.
 */
export async function registerRevocationStreamRoutes(
  app: FastifyInstance,
  opts: RevocationStreamOptions,
): Promise<void> {
  const open = new Set<SseStream>();
  // Long-lived responses would hold fastify.close() forever: end them first (they resume elsewhere).
  app.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });
  app.get<{ Querystring: { after?: string } }>(
    REVOCATION_STREAM_PATH,
    {
      preHandler: requireCaller(opts.ports.authenticate),
      schema: {
        tags: ['resource servers'],
        summary: 'Revocation events as server-sent events (resume with Last-Event-ID)',
        security: callerSecurity,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { after: { type: 'string', pattern: SEQ_PATTERN } },
        },
        produces: ['text/event-stream'],
        response: { ...errorResponses },
      },
    },
    (request, reply) => stream(request, reply, opts, open),
  );
}

async function stream(
  request: FastifyRequest<{ Querystring: { after?: string } }>,
  reply: FastifyReply,
  opts: RevocationStreamOptions,
  open: Set<SseStream>,
): Promise<void> {
  const feed = opts.ports.revocationFeed;
  if (feed === undefined) throw new BrokerError('BROKER_HTTP_NOT_FOUND');
  const header = request.headers['last-event-id'];
  const afterSeq = (typeof header === 'string' ? header.trim() : undefined) || request.query.after;
  const raw = reply.raw;
  let started = false;
  const begin = (): void => {
    if (started) return;
    started = true;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`retry: ${opts.retryMs ?? 2000}\n\n`);
    open.add(sse);
  };
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined = undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    const stop = unsubscribe;
    unsubscribe = undefined;
    stop?.();
    open.delete(sse);
    sse.end();
  };
  const sse = new SseStream(raw, opts.maxQueuedBytes ?? 1024 * 1024, finish);
  raw.on('close', finish);
  let last: string | null = afterSeq ?? null;
  try {
    unsubscribe = await feed.subscribe(
      callerOf(request),
      afterSeq === undefined ? {} : { afterSeq },
      (event) => {
        begin();
        last = event.seq;
        return sse.write(sseMessage(event));
      },
      (err) => {
        request.log.info({ error_code: (err as { code?: string }).code }, 'revocation stream ended');
        finish();
      },
    );
  } catch (err) {
    if (!started) {
      raw.off('close', finish);
      throw err;
    }
    request.log.warn({ error_code: (err as { code?: string }).code }, 'revocation stream catch-up failed');
    return finish();
  }
  // The client may have gone during the catch-up: then nothing is left to keep open.
  if (finished) return unsubscribe();
  begin();
  if (sse.ended) return finish();
  void sse.write(`event: caught_up\ndata: ${JSON.stringify({ last_event_id: last })}\n\n`);
  heartbeat = setInterval(() => void sse.write(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
  heartbeat.unref();
}
