import type { SpiffeBundle } from '../../spiffe/bundle.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';

/** What a verified JWT-SVID proved, kept so a repeated presentation costs one hash and one lookup. */
export interface CachedJwtSvid {
  readonly id: SpiffeId;
  readonly expiresAt: Date;
  /** The token's `jti`, when it has one (replay protection keys on it). */
  readonly jti: string | undefined;
  /** The bundle it was verified with: a refreshed or removed bundle invalidates the entry. */
  readonly bundle: SpiffeBundle;
}

/** A bounded least-recently-used map from a token's SHA-256 to what verifying it proved. */
export interface SvidCache {
  /**
   * The entry for `key` if it is still valid at `now` and was verified with `currentBundle(id)`;
   * otherwise the entry is dropped and `undefined` returned. The cache never extends validity: the
   * expiry is checked on every hit, exactly as the verifier checks `exp`.
   */
  get(
    key: string,
    now: Date,
    currentBundle: (id: SpiffeId) => SpiffeBundle | undefined,
  ): CachedJwtSvid | undefined;
  set(key: string, entry: CachedJwtSvid): void;
  readonly size: number;
}

/**
 * Creates an {@link SvidCache} holding at most `maxEntries` (default 10 000; 0 disables caching).
 * Past the bound the least recently used entry is forgotten, which only costs a re-verification.
 */
export function createSvidCache(maxEntries = 10_000): SvidCache {
  const entries = new Map<string, CachedJwtSvid>();
  return {
    get(key, now, currentBundle) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      // JWT-SVID §3.3 as jose applies it: valid while now < exp. A changed bundle (key removed or
      // rotated out) must be able to revoke trust, so only the same bundle object counts as a hit.
      if (now.getTime() >= entry.expiresAt.getTime() || currentBundle(entry.id) !== entry.bundle) {
        return undefined;
      }
      entries.set(key, entry);
      return entry;
    },
    set(key, entry) {
      if (maxEntries <= 0) return;
      entries.delete(key);
      entries.set(key, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}
