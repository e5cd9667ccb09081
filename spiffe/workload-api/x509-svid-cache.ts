import type { Clock } from '../clock.js';
import type { SpiffeId } from '../spiffe-id.js';
import type { X509Svid } from '../svid.js';
import type { SvidIssuer } from './svid-issuer.js';

/**
 * When an X509-SVID is rotated: half-way through its validity (notBefore + ½·lifetime), the point at
 * which SPIRE's agent renews, leaving the other half for retries and for relying parties to catch up.
 */
export function rotationTime(svid: X509Svid): Date {
  const notBefore = svid.certificates[0]?.notBefore.getTime() ?? svid.expiresAt.getTime();
  return new Date(notBefore + (svid.expiresAt.getTime() - notBefore) / 2);
}

/** The X509-SVIDs the server currently hands out, one per SPIFFE ID, shared by all streams. */
export interface X509SvidCache {
  /**
   * The current SVID of `id`: the cached one until its {@link rotationTime} per the clock, then a newly
   * minted one. Concurrent callers share one mint.
   *
   * @throws {SpiffeError} whatever the issuer throws; nothing is cached then, so the next call retries.
   */
  get(id: SpiffeId): Promise<X509Svid>;
}

/** Options of {@link createX509SvidCache}. */
export interface X509SvidCacheOptions {
  issuer: SvidIssuer;
  clock: Clock;
  /** TTL asked of the issuer; its default when omitted. */
  ttlSeconds?: number;
  /** Called after each mint (e.g. to re-read the bundle, which a CA renewal may have changed). */
  onMinted?: () => void;
}

interface Slot {
  svid?: X509Svid;
  pending?: Promise<X509Svid>;
}

/** Creates an {@link X509SvidCache}: SVIDs are minted lazily, on first demand, and rotated on demand. */
export function createX509SvidCache(opts: X509SvidCacheOptions): X509SvidCache {
  const slots = new Map<string, Slot>();
  const mint = (id: SpiffeId, slot: Slot): Promise<X509Svid> => {
    const request =
      opts.ttlSeconds === undefined
        ? { id, now: opts.clock.now() }
        : { id, now: opts.clock.now(), ttlSeconds: opts.ttlSeconds };
    slot.pending = opts.issuer.mintX509Svid(request).then(
      (svid) => {
        slot.svid = svid;
        slot.pending = undefined;
        opts.onMinted?.();
        return svid;
      },
      (err: unknown) => {
        slot.pending = undefined;
        throw err;
      },
    );
    return slot.pending;
  };
  return {
    get(id: SpiffeId): Promise<X509Svid> {
      const key = id.toString();
      let slot = slots.get(key);
      if (!slot) slots.set(key, (slot = {}));
      if (slot.pending) return slot.pending;
      if (slot.svid && opts.clock.now().getTime() < rotationTime(slot.svid).getTime())
        return Promise.resolve(slot.svid);
      return mint(id, slot);
    },
  };
}
