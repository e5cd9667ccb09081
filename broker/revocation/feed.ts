/**
 * The revocation push feed of one broker replica (ISSUE 4, "Everywhere, fast"): one NOTIFY listener
 * and one ledger reader per replica, fanned out to any number of subscribers (the SSE route, the gRPC
 * watch stream). A subscriber first catches up from the ledger, then receives live events as they
 * commit on any replica, in `seq` order, without gaps or repeats.
 *
 * @packageDocumentation
 */
import type { Logger } from 'pino';
import type { Clock } from '../../spiffe/clock.js';
import type { RevocationFeedEvent } from '../api/ports.js';
import { BrokerError } from '../errors.js';
import {
  readRevocationEvents,
  REVOCATION_CHANNEL,
  type RevocationEventRow,
} from '../store/revocation-events.js';
import type { SqlExecutor } from '../store/sql-executor.js';
import { createFeedPump } from './feed-pump.js';

/** What {@link createRevocationFeed} needs. */
export interface RevocationFeedDeps {
  /** The database: reads, and NOTIFY through `listen`. */
  readonly db: SqlExecutor;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * How far back a catch-up reaches: the longest task-token lifetime (the keyring overlap). An older
   * event can only concern tokens that have expired, so it is never replayed.
   */
  readonly horizonSeconds: number;
  /** Live events held for a subscriber still catching up before it is dropped; default 10000. */
  readonly maxBuffered?: number;
  /** Waits (the timer seam); default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Poll interval while a revocation writer is still open; default 5 ms. */
  readonly pollMs?: number;
}

/** Called with each event; a returned promise is awaited during catch-up (backpressure). */
export type FeedEventHandler = (event: RevocationFeedEvent) => void | Promise<void>;

/** The replica's feed. */
export interface RevocationFeed {
  /** LISTENs and takes the starting position. Idempotent; `subscribe` calls it too. */
  start(): Promise<void>;
  /**
   * Subscribes: every revocation event after `afterSeq` (or, without it, of the horizon), then live
   * events, until the returned function is called. Resolves once the catch-up is delivered. After
   * that, `onError` is called at most once when the subscription ends by itself
   * (`BROKER_FEED_SLOW_CONSUMER`, `BROKER_FEED_STOPPED`, or what `onEvent` threw).
   *
   * @throws {BrokerError} `BROKER_INPUT_INVALID` for a malformed `afterSeq`; `BROKER_FEED_STOPPED`
   *   after {@link stop}; `BROKER_STORE_*` when the catch-up cannot be read.
   */
  subscribe(
    options: { afterSeq?: string },
    onEvent: FeedEventHandler,
    onError: (err: Error) => void,
  ): Promise<() => void>;
  /** The settled position (diagnostics and tests). */
  position(): string;
  /** Stops listening and ends every subscription with `BROKER_FEED_STOPPED`. Idempotent. */
  stop(): Promise<void>;
}

interface Subscriber {
  last: bigint;
  live: boolean;
  closed: boolean;
  buffer: RevocationFeedEvent[];
  readonly onEvent: FeedEventHandler;
  readonly onError: (err: Error) => void;
}

const SEQ = /^(0|[1-9][0-9]{0,18})$/;
const MAX_SEQ = 2n ** 63n - 1n;
const PAGE = 500;

/** The feed's view of a ledger row. */
export function toFeedEvent(row: RevocationEventRow): RevocationFeedEvent {
  return Object.freeze({
    seq: row.seq,
    type: row.type,
    occurred_at: row.occurredAt.toISOString(),
    task_id: row.taskId,
    credential_id: row.credentialId,
    workload: row.workload,
    provider: row.provider,
    jti: row.jti,
    expires_at: row.expiresAt?.toISOString() ?? null,
  });
}

/** Creates the feed; nothing runs until `start` or the first `subscribe`. */
export function createRevocationFeed(deps: RevocationFeedDeps): RevocationFeed {
  const log = deps.logger.child({ component: 'revocation-feed' });
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxBuffered = deps.maxBuffered ?? 10_000;
  const subscribers = new Set<Subscriber>();
  let started: Promise<void> | undefined;
  let stopped = false;
  let unlisten: (() => Promise<void>) | undefined;

  const fail = (sub: Subscriber, err: Error): void => {
    if (sub.closed) return;
    sub.closed = true;
    subscribers.delete(sub);
    try {
      sub.onError(err);
    } catch {
      // The subscriber is gone either way.
    }
  };

  /** Hands `event` to a live subscriber unless it has seen it; returns what `onEvent` returned. */
  const emit = (sub: Subscriber, event: RevocationFeedEvent): void | Promise<void> => {
    const seq = BigInt(event.seq);
    if (sub.closed || seq <= sub.last) return;
    sub.last = seq;
    try {
      const result = sub.onEvent(event);
      if (result instanceof Promise) {
        return result.catch((err: unknown) => fail(sub, asError(err)));
      }
    } catch (err) {
      fail(sub, asError(err));
    }
  };

  const pump = createFeedPump({
    db: deps.db,
    logger: log,
    sleep,
    ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
    deliver(rows) {
      const events = rows.map(toFeedEvent);
      for (const sub of [...subscribers]) {
        for (const event of events) {
          if (sub.live) {
            void emit(sub, event);
          } else if (sub.buffer.length >= maxBuffered) {
            fail(sub, new BrokerError('BROKER_FEED_SLOW_CONSUMER', 'too many events during catch-up'));
          } else {
            sub.buffer.push(event);
          }
        }
      }
    },
  });

  async function doStart(): Promise<void> {
    // LISTEN before reading the head: whatever commits after the head read is then notified.
    unlisten = await deps.db.listen(REVOCATION_CHANNEL, {
      notify: () => pump.wake(),
      reconnected: () => {
        log.info('revocation listener reconnected; catching up');
        pump.wake();
      },
      lost: () => log.warn('revocation listener connection lost'),
    });
    await pump.init();
  }

  async function catchUp(sub: Subscriber, afterSeq: string): Promise<void> {
    const upTo = pump.position();
    const since = new Date(deps.clock.now().getTime() - deps.horizonSeconds * 1000);
    for (let after = afterSeq; !sub.closed;) {
      const page = await readRevocationEvents(deps.db, { after, upTo, since, limit: PAGE });
      for (const row of page.events) {
        if (sub.closed) return;
        await emit(sub, toFeedEvent(row));
      }
      if (page.events.length < PAGE) return;
      after = page.events.at(-1)!.seq;
    }
  }

  function start(): Promise<void> {
    if (stopped) return Promise.reject(new BrokerError('BROKER_FEED_STOPPED'));
    started ??= doStart().catch((err: unknown) => {
      started = undefined;
      throw err;
    });
    return started;
  }

  return {
    start,
    async subscribe(options, onEvent, onError) {
      const afterSeq = options.afterSeq ?? '0';
      if (!SEQ.test(afterSeq) || BigInt(afterSeq) > MAX_SEQ) {
        throw new BrokerError('BROKER_INPUT_INVALID', 'after must be a non-negative integer event id');
      }
      await start();
      if (stopped) throw new BrokerError('BROKER_FEED_STOPPED');
      const sub: Subscriber = {
        last: BigInt(afterSeq),
        live: false,
        closed: false,
        buffer: [],
        onEvent,
        onError,
      };
      subscribers.add(sub);
      try {
        await catchUp(sub, afterSeq);
      } catch (err) {
        sub.closed = true;
        subscribers.delete(sub);
        throw err;
      }
      // Live events that arrived during the catch-up, then live delivery (synchronous: no gap).
      const buffered = sub.buffer;
      sub.buffer = [];
      sub.live = true;
      for (const event of buffered) void emit(sub, event);
      return () => {
        sub.closed = true;
        subscribers.delete(sub);
      };
    },
    position: () => pump.position(),
    async stop() {
      if (stopped) return;
      stopped = true;
      pump.stop();
      await started?.catch(() => undefined);
      await unlisten?.();
      for (const sub of [...subscribers]) fail(sub, new BrokerError('BROKER_FEED_STOPPED'));
      await pump.idle();
    },
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
