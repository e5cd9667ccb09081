import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { BundleFeed } from './bundle-feed.js';
import { toGrpcStatus } from './grpc-status.js';
import type { WorkloadApiLogger } from './logger.js';
import { schedule as scheduleTimer, type TimerHandle, type Timers } from './timers.js';

/** One full response of a stream (Workload API spec §4.3: every message carries the full set). */
export interface StreamSnapshot<T> {
  message: T;
  /** Values whose identity defines the content: a message is sent only when one of them changed. */
  parts: readonly unknown[];
  /** When the content changes on its own (the next SVID rotation); the stream re-composes then. */
  wakeAt?: Date;
}

/** What {@link servePushStream} needs from the server. */
export interface PushStreamDeps {
  feed: BundleFeed;
  clock: Clock;
  timers: Timers;
  logger: WorkloadApiLogger;
  /** Cleanups of open streams, run by the server's `stop()`. */
  openStreams: Set<() => void>;
}

/**
 * Never wake sooner than this after a message: if an issuer hands out SVIDs whose rotation time has
 * already passed, the stream re-mints once a second instead of spinning.
 */
export const MIN_WAKE_DELAY_MS = 1000;

/**
 * Serves a server-streaming Workload API call: sends the first snapshot as soon as it is composed (§4.3:
 * the first response MUST be sent without delay), then re-composes whenever the bundle feed changes or
 * the snapshot's `wakeAt` arrives, and sends again only when the content changed. Compositions run one
 * at a time, in order. A composition that throws ends the call with the mapped gRPC status (e.g.
 * PermissionDenied for a caller with no identity); a cancelled call stops everything it scheduled.
 */
export function servePushStream<T>(
  call: ServerWritableStream<unknown, T>,
  compose: () => Promise<StreamSnapshot<T>>,
  deps: PushStreamDeps,
): void {
  let last: readonly unknown[] | undefined;
  let timer: TimerHandle | undefined;
  let queue: Promise<void> = Promise.resolve();
  let ended = false;

  const cleanup = (): void => {
    if (ended) return;
    ended = true;
    timer?.cancel();
    unsubscribe();
    deps.openStreams.delete(cleanup);
  };
  const fail = (err: unknown): void => {
    if (ended) return;
    cleanup();
    deps.logger.warn(
      { method: call.getPath(), code: toGrpcStatus(err).code },
      'workload api stream ended with an error',
    );
    call.emit('error', toGrpcStatus(err));
  };
  const schedule = (wakeAt: Date | undefined): void => {
    timer?.cancel();
    timer = undefined;
    if (!wakeAt) return;
    const delay = Math.max(MIN_WAKE_DELAY_MS, wakeAt.getTime() - deps.clock.now().getTime());
    timer = scheduleTimer(deps.timers, push, delay);
  };
  const step = async (): Promise<void> => {
    if (ended) return;
    const snapshot = await compose();
    if (ended) return;
    if (!last || changed(last, snapshot.parts)) {
      call.write(snapshot.message);
      last = snapshot.parts;
    }
    schedule(snapshot.wakeAt);
  };
  function push(): void {
    queue = queue.then(step).catch(fail);
  }

  const unsubscribe = deps.feed.subscribe(push);
  deps.openStreams.add(cleanup);
  call.on('cancelled', cleanup);
  call.on('finish', cleanup);
  push();
}

function changed(previous: readonly unknown[], next: readonly unknown[]): boolean {
  return previous.length !== next.length || next.some((part, i) => part !== previous[i]);
}
