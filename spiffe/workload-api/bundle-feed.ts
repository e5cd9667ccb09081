import type { SpiffeBundle } from '../bundle.js';

/**
 * The bundles a Workload API server hands out, and a signal when they change, so streams push updates
 * (Workload API spec §4.3: updates are driven by events that change the response, e.g. a CA rotation
 * or a federated bundle refresh).
 */
export interface BundleFeed {
  /**
   * The current bundles: the server's own trust domain first, then federated ones (§4.6), one per
   * domain. The same array is returned until the content changes.
   */
  bundles(): readonly SpiffeBundle[];
  /** Calls `listener` after every change; returns the function that unsubscribes it. */
  subscribe(listener: () => void): () => void;
}

/** A {@link BundleFeed} whose owner reports changes. */
export interface MutableBundleFeed extends BundleFeed {
  /** Re-reads the local bundle (after a CA or JWT key rotation); notifies subscribers if it changed. */
  refresh(): void;
  /** Replaces the federated bundles (from federation endpoints); notifies subscribers if they changed. */
  setFederated(bundles: readonly SpiffeBundle[]): void;
}

/** Options of {@link createBundleFeed}. */
export interface BundleFeedOptions {
  /** The local trust domain's bundle, read again on each {@link MutableBundleFeed.refresh}. */
  local: () => SpiffeBundle;
  federated?: readonly SpiffeBundle[];
}

/**
 * A feed over a local bundle (typically `DevCa.bundle`) and a set of federated bundles. A federated
 * bundle for the local trust domain is ignored: the local CA is the authority for its own domain.
 * Listeners run synchronously, in subscription order; one that throws does not stop the others.
 */
export function createBundleFeed(opts: BundleFeedOptions): MutableBundleFeed {
  const listeners = new Set<() => void>();
  let current = compose(opts.local(), opts.federated ?? []);
  let fingerprint = fingerprintOf(current);
  let federated = opts.federated ?? [];

  const update = (next: readonly SpiffeBundle[]): void => {
    const nextFingerprint = fingerprintOf(next);
    // Unchanged content keeps the same array, so streams comparing by identity see no change.
    if (nextFingerprint === fingerprint) return;
    current = next;
    fingerprint = nextFingerprint;
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch {
        // A failing stream must not keep the others from their update; it ends on its own error path.
      }
    }
  };

  return {
    bundles: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh: () => update(compose(opts.local(), federated)),
    setFederated(bundles) {
      federated = [...bundles];
      update(compose(opts.local(), federated));
    },
  };
}

function compose(local: SpiffeBundle, federated: readonly SpiffeBundle[]): readonly SpiffeBundle[] {
  const byDomain = new Map<string, SpiffeBundle>();
  for (const b of federated)
    if (!b.trustDomain.equals(local.trustDomain)) byDomain.set(b.trustDomain.name, b);
  return Object.freeze([local, ...byDomain.values()]);
}

/** A value that changes whenever any served authority changes (sequence numbers alone may not). */
function fingerprintOf(bundles: readonly SpiffeBundle[]): string {
  return JSON.stringify(
    bundles.map((b) => [
      b.trustDomain.name,
      b.x509Authorities.map((c) => Buffer.from(c.rawData).toString('base64')),
      [...b.jwtAuthorities].sort(([a], [z]) => a.localeCompare(z)),
    ]),
  );
}
