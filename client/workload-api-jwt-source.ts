import type { Clock } from '../spiffe/clock.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { JwtSvid } from '../spiffe/svid.js';
import { createWorkloadApiClient, type WorkloadApiClient } from '../spiffe/workload-api/index.js';

/** A source of fresh JWT-SVIDs for one audience; pass `() => source.token()` as the client's `jwtSvid`. */
export interface JwtSvidSource {
  /** A JWT-SVID valid for the audience now. A bearer secret: never log it. */
  token(): Promise<string>;
  /** Closes the Workload API connection. */
  close(): void;
}

/** Options of {@link createWorkloadApiJwtSource}. */
export interface WorkloadApiJwtSourceOptions {
  /**
   * The Workload API endpoint (`unix:///path`, `tcp://ip:port` or an absolute socket path), typically
   * `SPIFFE_ENDPOINT_SOCKET`, which the caller reads (the library never reads the environment).
   */
  readonly socketPath: string;
  /** The broker's audience (`taskpass-broker` by default on the broker). */
  readonly audience: string;
  readonly clock: Clock;
  /** Which of the caller's identities, when the Workload API gives it several; default: its default one. */
  readonly spiffeId?: SpiffeId;
  /** Bound on each Workload API call (default 30 s). */
  readonly timeoutMs?: number;
  /** A client to use instead of opening one (then {@link JwtSvidSource.close} leaves it open). */
  readonly client?: WorkloadApiClient;
}

/**
 * JWT-SVIDs from the SPIFFE Workload API (`FetchJWTSVID`, Workload API spec §6.2.1) for the broker's
 * audience, as a workload would get them from a SPIRE agent or `taskpass dev`'s socket. A token is
 * reused until half its lifetime has passed, then fetched again, so a long-running workload never
 * presents an SVID about to expire; concurrent callers share one fetch.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_ARGUMENT` for an unusable `socketPath`; {@link
 *   JwtSvidSource.token} rejects with `SPIFFE_WORKLOAD_*` codes (no socket, no identity, …).
 */
export function createWorkloadApiJwtSource(opts: WorkloadApiJwtSourceOptions): JwtSvidSource {
  const client =
    opts.client ??
    createWorkloadApiClient({
      socketPath: opts.socketPath,
      clock: opts.clock,
      ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    });
  let current: { svid: JwtSvid; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  const fetchFresh = async (): Promise<string> => {
    const fetchedAt = opts.clock.now().getTime();
    const svid = await client.fetchJwtSvid({
      audience: opts.audience,
      ...(opts.spiffeId !== undefined && { spiffeId: opts.spiffeId }),
    });
    current = { svid, refreshAt: fetchedAt + (svid.expiresAt.getTime() - fetchedAt) / 2 };
    return svid.token;
  };
  return {
    token() {
      if (current !== undefined && opts.clock.now().getTime() < current.refreshAt) {
        return Promise.resolve(current.svid.token);
      }
      inFlight ??= fetchFresh().finally(() => (inFlight = undefined));
      return inFlight;
    },
    close() {
      if (opts.client === undefined) client.close();
    },
  };
}
