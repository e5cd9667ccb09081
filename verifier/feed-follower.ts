import type { Clock } from '../spiffe/clock.js';
import { SseParser, type SseEvent } from './sse-parser.js';

/** A source of JWT-SVIDs for the broker's audience: the verifier's own identity on the feed. */
export type JwtSvidSource = () => string | Promise<string>;

/** What {@link followFeed} needs. */
export interface FeedFollowerOptions {
  /** `GET /v1/revocations/stream` of the broker. */
  readonly url: URL;
  readonly credentials: JwtSvidSource;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  /** Each feed event (`event:` other than `caught_up`) with its parsed data. */
  readonly onEvent: (type: string, data: unknown) => void;
  /** The stream has delivered its catch-up; live events follow. */
  readonly onCaughtUp: () => void;
  /** A connection attempt failed or a stream ended (for logs); the follower retries by itself. */
  readonly onError?: (err: Error) => void;
  /** First reconnect delay, doubled per failure up to `maxBackoffMs`, with jitter; default 250 ms. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Abort and reconnect when nothing (not even a heartbeat) arrived for this long; default 40 s. */
  readonly idleTimeoutMs?: number;
}

/** A running follower. */
export interface FeedFollower {
  /** The `Last-Event-ID` the next connection resumes from ('' before any event). */
  readonly lastEventId: () => string;
  /** When the stream was last heard from (an event, a heartbeat, a new connection); null never. */
  readonly lastHeardAt: () => Date | null;
  readonly connected: () => boolean;
  close(): void;
}

/** An error a connection attempt ended with: the HTTP status and the broker's error code, if any. */
export class FeedConnectError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`revocation feed answered ${status}${code ? ` ${code}` : ''}`);
  }
}

/**
 * Follows the broker's revocation feed for as long as it is not closed: connects with the JWT-SVID
 * as a bearer token, parses server-sent events, and on any end of the stream (broker restart,
 * network, idle timeout) reconnects with backoff and `Last-Event-ID`, so the broker replays exactly
 * what was missed.
 */
export function followFeed(opts: FeedFollowerOptions): FeedFollower {
  const initial = opts.initialBackoffMs ?? 250;
  const max = opts.maxBackoffMs ?? 10_000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 40_000;
  let closed = false;
  let connected = false;
  let lastHeard: Date | null = null;
  let retryMs: number | undefined;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;
  const parser = new SseParser({
    event: (e) => dispatch(e),
    comment: () => void (lastHeard = opts.clock.now()),
    retry: (ms) => void (retryMs = ms),
  });

  function dispatch(e: SseEvent): void {
    lastHeard = opts.clock.now();
    if (e.type === 'caught_up') return opts.onCaughtUp();
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return opts.onError?.(new Error('revocation feed sent an event that is not JSON'));
    }
    opts.onEvent(e.type, data);
  }

  async function connectOnce(): Promise<void> {
    controller = new AbortController();
    const signal = controller.signal;
    const token = await opts.credentials();
    const resumeFrom = parser.lastEventId;
    const res = await opts.fetch(opts.url, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        ...(resumeFrom === '' ? {} : { 'last-event-id': resumeFrom }),
      },
      signal,
    });
    if (res.status !== 200 || res.body === null) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      throw new FeedConnectError(res.status, body.error?.code);
    }
    connected = true;
    lastHeard = opts.clock.now();
    const watchdog = setInterval(
      () => {
        const heard = lastHeard?.getTime() ?? 0;
        if (opts.clock.now().getTime() - heard > idleTimeoutMs) controller?.abort();
      },
      Math.min(idleTimeoutMs, 5000),
    );
    watchdog.unref();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        parser.push(decoder.decode(chunk, { stream: true }));
      }
    } finally {
      clearInterval(watchdog);
      connected = false;
    }
  }

  async function run(): Promise<void> {
    for (let failures = 0; !closed;) {
      try {
        await connectOnce();
        failures = 0;
      } catch (err) {
        if (closed) return;
        failures += 1;
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
      if (closed) return;
      const base = retryMs !== undefined && failures === 0 ? retryMs : Math.min(max, initial * 2 ** failures);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, base * (0.5 + Math.random() / 2)).unref();
      });
      wake = undefined;
    }
  }

  void run();
  return {
    lastEventId: () => parser.lastEventId,
    lastHeardAt: () => lastHeard,
    connected: () => connected,
    close() {
      closed = true;
      controller?.abort();
      wake?.();
    },
  };
}
