import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryReplayStore } from '../../../broker/auth/replay-store.js';
import { createSvidCache } from '../../../broker/auth/svid-cache.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';

const T = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);

describe('createMemoryReplayStore', () => {
  it('remembers a key until it expires', () => {
    const store = createMemoryReplayStore();
    assert.equal(store.remember('k', T(10), T(0)), 'fresh');
    assert.equal(store.remember('k', T(10), T(9)), 'replayed');
    assert.equal(store.remember('k', T(20), T(10)), 'fresh');
  });

  it('drops expired keys when full and refuses rather than forget a live one', () => {
    const store = createMemoryReplayStore({ maxEntries: 2 });
    assert.equal(store.remember('a', T(5), T(0)), 'fresh');
    assert.equal(store.remember('b', T(50), T(0)), 'fresh');
    assert.equal(store.remember('c', T(50), T(1)), 'full');
    assert.equal(store.remember('c', T(50), T(6)), 'fresh');
    assert.equal(store.size, 2);
  });
});

describe('createSvidCache', () => {
  const id = SpiffeId.parse('spiffe://td/w');
  const bundle = new SpiffeBundle({ trustDomain: TrustDomain.parse('td') });
  const entry = { id, expiresAt: T(60), jti: undefined, bundle };

  it('misses at and after the expiry, and when the bundle changed', () => {
    const cache = createSvidCache();
    cache.set('h', entry);
    assert.equal(
      cache.get('h', T(59), () => bundle),
      entry,
    );
    assert.equal(
      cache.get('h', T(1), () => new SpiffeBundle({ trustDomain: TrustDomain.parse('td') })),
      undefined,
    );
    cache.set('h', entry);
    assert.equal(
      cache.get('h', T(60), () => bundle),
      undefined,
    );
    assert.equal(cache.size, 0);
  });

  it('is bounded, forgetting the least recently used entry', () => {
    const cache = createSvidCache(2);
    cache.set('a', entry);
    cache.set('b', entry);
    cache.get('a', T(0), () => bundle);
    cache.set('c', entry);
    assert.equal(
      cache.get('b', T(0), () => bundle),
      undefined,
    );
    assert.equal(
      cache.get('a', T(0), () => bundle),
      entry,
    );
    assert.equal(cache.size, 2);
  });
});
