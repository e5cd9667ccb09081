/**
 * Task-token verification for resource servers (ISSUE 4, "Everywhere, fast"): verifies broker task
 * tokens locally against the broker's JWKS and rejects revoked ones from the broker's revocation
 * feed, without calling the broker per request. See docs/resource-servers.md.
 *
 * @packageDocumentation
 */
import { createRemoteJWKSet, customFetch } from 'jose';
import { BrokerError } from '../broker/errors.js';
import { systemClock, type Clock } from '../spiffe/clock.js';
import { followFeed, type FeedFollower, type JwtSvidSource } from './feed-follower.js';
import { RevocationState, type FeedEventData } from './revocation-state.js';
import { verifyTaskTokenClaims, type VerifiedTaskToken } from './verify-token.js';

export type { VerifiedTaskToken } from './verify-token.js';
export type { JwtSvidSource } from './feed-follower.js';

/** Options of {@link createTaskTokenVerifier}. */
export interface TaskTokenVerifierOptions {
  /** The broker's base URL (`https://broker.example:8443`); the JWKS and the feed are found under it. */
  readonly brokerUrl: string | URL;
  /** This resource server's audience: the `audience` of the broker's `jwt` provider for it. */
  readonly audience: string;
  /** The task tokens' `iss` (the broker's issuer URL). */
  readonly issuer: string;
  /**
   * JWT-SVIDs of this resource server for the broker's audience, to authenticate on the revocation
   * feed (the policy must give it the `resource_server` role). Called per connection.
   */
  readonly credentials: JwtSvidSource;
  /** Accepted signing algorithms (default `['ES256']`, the broker's default); never read from tokens. */
  readonly algorithms?: readonly string[];
  /** `fetch` for the JWKS and the feed (e.g. with an mTLS dispatcher); default the global one. */
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /**
   * Fail closed after the feed has been silent this long (no event, no heartbeat): every token is
   * then refused with `BROKER_VERIFIER_FEED_STALE` until it is heard again. Default 45000 ms (three
   * broker heartbeats).
   */
  readonly maxStalenessMs?: number;
  /** How long revocations are kept when an event carries no expiry; default 24 h (the broker's cap). */
  readonly maxTokenLifetimeSeconds?: number;
  /** Told about feed connection problems (the verifier reconnects by itself). */
  readonly onFeedError?: (err: Error) => void;
  /** Reconnect backoff of the feed (tests); defaults 250 ms doubling to 10 s. */
  readonly feedBackoffMs?: { readonly initial: number; readonly max: number };
}

/** A verifier; one per resource server process. */
export interface TaskTokenVerifier {
  /**
   * Verifies `token` and checks it against the revocations seen on the feed.
   *
   * @throws {BrokerError} `BROKER_TOKEN_*` for a token that must be refused (401; `BROKER_TOKEN_REVOKED`
   *   when its credential was revoked or its task ended); `BROKER_VERIFIER_FEED_STALE` or
   *   `BROKER_VERIFIER_KEYS_UNAVAILABLE` when the verifier cannot decide (503).
   */
  verify(token: string): Promise<VerifiedTaskToken>;
  /** Resolves once the feed's first catch-up has been received (before that, `verify` fails closed). */
  ready(): Promise<void>;
  /** Feed position and state (diagnostics, tests). */
  status(): { lastEventId: string; connected: boolean; revokedJtis: number; endedTasks: number };
  /** Resolves when an event with this seq (or a later one) has been applied. */
  seen(seq: string): Promise<void>;
  /** Stops following the feed. */
  close(): void;
}

const STREAM_PATH = '/v1/revocations/stream';
const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Creates a verifier and starts following the broker's revocation feed at once.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` for a broker URL that is not http(s).
 */
export function createTaskTokenVerifier(opts: TaskTokenVerifierOptions): TaskTokenVerifier {
  const base = new URL(opts.brokerUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new BrokerError('BROKER_INPUT_INVALID', 'broker url must be http or https');
  }
  const clock = opts.clock ?? systemClock;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const maxStalenessMs = opts.maxStalenessMs ?? 45_000;
  const state = new RevocationState((opts.maxTokenLifetimeSeconds ?? 86_400) * 1000);
  const keys = createRemoteJWKSet(new URL(JWKS_PATH, base), {
    [customFetch]: (url, init) => doFetch(url, init),
  });
  let caughtUp = false;
  let markReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  let applied = 0n;
  const waiters: { seq: bigint; resolve: () => void }[] = [];

  const apply = (data: unknown): void => {
    const event = data as FeedEventData;
    if (typeof event?.seq !== 'string' || !/^[0-9]+$/.test(event.seq)) return;
    state.apply(event);
    applied = BigInt(event.seq) > applied ? BigInt(event.seq) : applied;
    for (const w of [...waiters]) {
      if (w.seq <= applied) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const follower: FeedFollower = followFeed({
    url: new URL(STREAM_PATH, base),
    credentials: opts.credentials,
    fetch: doFetch,
    clock,
    onEvent: (_type, data) => apply(data),
    onCaughtUp: () => {
      caughtUp = true;
      markReady();
    },
    ...(opts.onFeedError ? { onError: opts.onFeedError } : {}),
    ...(opts.feedBackoffMs
      ? { initialBackoffMs: opts.feedBackoffMs.initial, maxBackoffMs: opts.feedBackoffMs.max }
      : {}),
  });

  const current = (now: Date): boolean => {
    const heard = follower.lastHeardAt();
    return caughtUp && heard !== null && now.getTime() - heard.getTime() <= maxStalenessMs;
  };

  return {
    async verify(token) {
      const now = clock.now();
      // Fail closed: without a current feed a revoked token could pass.
      if (!current(now)) throw new BrokerError('BROKER_VERIFIER_FEED_STALE');
      const verified = await verifyTaskTokenClaims(token, {
        keys,
        algorithms: opts.algorithms ?? ['ES256'],
        issuer: opts.issuer,
        audience: opts.audience,
        now,
      });
      state.prune(now);
      if (state.isRevoked(verified.jti, verified.taskId)) {
        throw new BrokerError('BROKER_TOKEN_REVOKED', 'revoked on the revocation feed');
      }
      return verified;
    },
    ready: () => readyPromise,
    status: () => ({
      lastEventId: follower.lastEventId(),
      connected: follower.connected(),
      revokedJtis: state.size().jtis,
      endedTasks: state.size().tasks,
    }),
    seen(seq) {
      const want = BigInt(seq);
      if (want <= applied) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ seq: want, resolve }));
    },
    close: () => follower.close(),
  };
}
