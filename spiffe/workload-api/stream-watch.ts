import type { ClientReadableStream } from '@grpc/grpc-js';
import { SpiffeError } from '../errors.js';
import { fromGrpcError } from './grpc-status.js';
import { schedule, type TimerHandle, type Timers } from './timers.js';

/** A running watch; `stop()` cancels the stream and any pending reconnect. Idempotent. */
export interface Watch {
  stop(): void;
}

/** Reconnect delays: `initialMs`, doubled after each failed attempt, capped at `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** go-spiffe's workload API client backs off from one second up to thirty. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ initialMs: 1000, maxMs: 30_000 });

/** Options of {@link watchStream}. */
export interface WatchStreamOptions<M, V> {
  open: () => ClientReadableStream<M>;
  /** Turns a message into a value; a throw reports the error and discards the message (spec §4.5). */
  decode: (message: M) => V;
  onUpdate: (value: V) => void;
  onError: (err: SpiffeError) => void;
  timers: Timers;
  backoff: Backoff;
}

/**
 * Keeps a server stream open for as long as the watch runs (Workload API spec §4.2: clients SHOULD keep
 * the connection open and re-establish it when it ends), reconnecting with exponential backoff after an
 * error or an end of stream; the backoff resets once a message arrives. Errors are translated to
 * `SPIFFE_WORKLOAD_*` codes and reported; a malformed message is reported and skipped.
 */
export function watchStream<M, V>(opts: WatchStreamOptions<M, V>): Watch {
  let stopped = false;
  let stream: ClientReadableStream<M> | undefined;
  let timer: TimerHandle | undefined;
  let failures = 0;

  const reconnectLater = (): void => {
    if (stopped) return;
    const delay = Math.min(opts.backoff.initialMs * 2 ** failures, opts.backoff.maxMs);
    failures += 1;
    timer = schedule(opts.timers, connect, delay);
  };

  function connect(): void {
    if (stopped) return;
    let current: ClientReadableStream<M>;
    try {
      current = opts.open();
    } catch (err) {
      opts.onError(fromGrpcError(err));
      reconnectLater();
      return;
    }
    stream = current;
    let finished = false;
    const finish = (err?: unknown): void => {
      if (finished || stopped || stream !== current) return;
      finished = true;
      if (err !== undefined) opts.onError(fromGrpcError(err));
      reconnectLater();
    };
    current.on('data', (message: M) => {
      if (stopped) return;
      let value: V;
      try {
        value = opts.decode(message);
      } catch (err) {
        opts.onError(fromGrpcError(err));
        return;
      }
      failures = 0;
      opts.onUpdate(value);
    });
    current.on('error', (err: unknown) => finish(err));
    current.on('end', () => finish());
  }

  connect();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      stream?.cancel();
    },
  };
}

/**
 * The first message of a server stream, then the stream is cancelled: how the `fetch*` calls read a
 * streaming RPC once.
 *
 * @throws {SpiffeError} a `SPIFFE_WORKLOAD_*` code for a gRPC error, an end without a message
 * (`SPIFFE_WORKLOAD_BAD_RESPONSE`), `timeoutMs` elapsing (`SPIFFE_WORKLOAD_UNAVAILABLE`), or whatever
 * `decode` throws.
 */
export function firstMessage<M, V>(
  open: () => ClientReadableStream<M>,
  decode: (m: M) => V,
  timers: Timers,
  timeoutMs: number,
): Promise<V> {
  let stream: ClientReadableStream<M>;
  try {
    stream = open();
  } catch (err) {
    return Promise.reject(fromGrpcError(err));
  }
  return new Promise<V>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      stream.cancel();
      fn();
    };
    const timer = schedule(
      timers,
      () => settle(() => reject(new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'timed out'))),
      timeoutMs,
    );
    stream.on('data', (message: M) =>
      settle(() => {
        try {
          resolve(decode(message));
        } catch (err) {
          reject(fromGrpcError(err));
        }
      }),
    );
    stream.on('error', (err: unknown) => settle(() => reject(fromGrpcError(err))));
    stream.on('end', () =>
      settle(() => reject(new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', 'stream ended without a message'))),
    );
  });
}
