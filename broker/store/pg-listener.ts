import pg from 'pg';
import { BrokerError } from '../errors.js';
import type { SqlListenHandlers } from './sql-executor.js';

/** Where and how {@link listenPg} connects. */
export interface PgListenerOptions {
  /** A `postgres://` connection URL. */
  readonly url: string;
  /** Shown as the connection's `application_name` after `taskpass-listen:` (operators, tests). */
  readonly label?: string;
  /** Connection timeout; default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay (doubled per failure, with jitter); default 100 ms. */
  readonly initialBackoffMs?: number;
  /** Longest reconnect delay; default 5000 ms. */
  readonly maxBackoffMs?: number;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Listens on `channel` over ONE dedicated connection, outside any pool: a pooled connection would
 * drop its LISTEN when it is released, and LISTEN holds its connection for as long as it is wanted.
 * When the connection drops (server restart, `pg_terminate_backend`, network) `handlers.lost` is told,
 * and a new connection is tried with exponential backoff and jitter until LISTEN is in effect again;
 * then `handlers.reconnected` is told, so the caller can read whatever it missed meanwhile.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` for a channel that is not a plain identifier;
 *   `BROKER_STORE_UNAVAILABLE` when the first connection or LISTEN fails (nothing is left running).
 */
export async function listenPg(
  opts: PgListenerOptions,
  channel: string,
  handlers: SqlListenHandlers,
): Promise<() => Promise<void>> {
  if (!CHANNEL.test(channel)) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'channel must be a lower-case sql identifier');
  }
  const initial = opts.initialBackoffMs ?? 100;
  const max = opts.maxBackoffMs ?? 5000;
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString: opts.url,
      application_name: `taskpass-listen:${opts.label ?? channel}`.slice(0, 63),
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    });
    let gone = false;
    const lost = (err: Error): void => {
      if (gone) return;
      gone = true;
      if (client === c) client = undefined;
      c.end().catch(() => undefined);
      if (stopped) return;
      handlers.lost?.(err);
      schedule();
    };
    // Registered before connecting: an error event without a listener would crash the process.
    c.on('error', lost);
    c.on('end', () => lost(new Error('listening connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === channel) handlers.notify(msg.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      gone = true;
      c.removeAllListeners('end');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
      throw new BrokerError('BROKER_STORE_UNAVAILABLE', 'cannot listen for notifications', { cause: err });
    }
    return c;
  };

  const schedule = (): void => {
    if (stopped || timer !== undefined) return;
    const delay = Math.min(max, initial * 2 ** failures) * (0.5 + Math.random() / 2);
    failures += 1;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        (c) => {
          if (stopped) return void c.end().catch(() => undefined);
          client = c;
          failures = 0;
          handlers.reconnected?.();
        },
        () => schedule(),
      );
    }, delay);
  };

  client = await connect();
  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  };
}
