/**
 * The broker's own X509-SVID in `dev-ca` mode, for the gRPC TCP+mTLS listener: minted from the
 * development CA and re-minted at half its lifetime, as the Workload API server rotates the SVIDs it
 * serves (and SPIRE's agent rotates the ones it holds). In `workload-api` mode the SPIRE agent
 * rotates the broker's SVID instead.
 *
 * @packageDocumentation
 */
import type { Logger } from 'pino';
import type { DevCa } from '../../../spiffe/ca/index.js';
import type { Clock } from '../../../spiffe/clock.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { X509Svid } from '../../../spiffe/svid.js';
import { systemTimers, type Timers } from '../../../spiffe/workload-api/timers.js';

/** The path of the broker's SPIFFE ID in its trust domain: `spiffe://<td>/taskpass/broker`. */
export const BROKER_ID_PATH = '/taskpass/broker';

/** Never re-mint sooner than this (a CA handing out very short SVIDs must not make this spin). */
const MIN_DELAY_MS = 1000;
/** After a failed mint, try again this soon (or at half the remaining lifetime, if sooner). */
const RETRY_MS = 30_000;

/** The current SVID, kept fresh. */
export interface RotatingSvid {
  current(): X509Svid;
  /** Cancels the next re-mint. Idempotent. */
  stop(): void;
}

/** What {@link createDevCaSvid} needs. */
export interface DevCaSvidOptions {
  readonly ca: DevCa;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called after each re-mint (to rebind the TLS listener). */
  readonly onRotate: () => void;
  /** Default: Node's (unref'd). */
  readonly timers?: Timers;
  /** DNS SANs besides the SPIFFE ID, for clients that check a host name (e.g. `localhost`). */
  readonly dnsNames?: readonly string[];
}

/**
 * Mints the broker's X509-SVID (`spiffe://<td>/taskpass/broker`) and re-mints it at half its
 * lifetime, calling `onRotate` each time. A failed re-mint keeps the current SVID and retries.
 *
 * @throws {SpiffeError} `SPIFFE_CA_*` when the first mint fails.
 */
export async function createDevCaSvid(opts: DevCaSvidOptions): Promise<RotatingSvid> {
  const timers = opts.timers ?? systemTimers;
  const id = SpiffeId.parse(`${opts.ca.trustDomain.idString}${BROKER_ID_PATH}`);
  const mint = () =>
    opts.ca.mintX509Svid({
      id,
      now: opts.clock.now(),
      ...(opts.dnsNames && opts.dnsNames.length > 0 && { dnsNames: [...opts.dnsNames] }),
    });
  let svid = await mint();
  let handle: unknown;
  let stopped = false;
  const remainingMs = () => svid.expiresAt.getTime() - opts.clock.now().getTime();
  const schedule = (ms: number): void => {
    if (stopped) return;
    handle = timers.setTimeout(() => void renew(), Math.max(MIN_DELAY_MS, ms));
  };
  const renew = async (): Promise<void> => {
    try {
      const next = await mint();
      if (stopped) return;
      svid = next;
      opts.onRotate();
      schedule(remainingMs() / 2);
    } catch (err) {
      opts.logger.error({ err }, 'broker svid re-mint failed');
      schedule(Math.min(RETRY_MS, remainingMs() / 2));
    }
  };
  schedule(remainingMs() / 2);
  return {
    current: () => svid,
    stop() {
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
    },
  };
}
