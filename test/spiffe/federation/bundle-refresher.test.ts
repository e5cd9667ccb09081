import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BundleRefresher,
  DEFAULT_REFRESH_POLICY,
  refreshIntervalMs,
  retryDelayMs,
  type RefreshEvent,
} from '../../../spiffe/federation/bundle-refresher.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { SpiffeError } from '../../../spiffe/errors.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeBundleFetcher } from '../../fakes/fake-bundle-fetcher.js';

const bob = TrustDomain.parse('bob.example');
const carol = TrustDomain.parse('carol.example');
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const bundle = (td: TrustDomain, sequenceNumber?: number, refreshHintSeconds?: number): SpiffeBundle =>
  new SpiffeBundle({ trustDomain: td, sequenceNumber, refreshHintSeconds });

function setup(fetchers: FakeBundleFetcher[], set = new BundleSet()) {
  const clock = new FakeClock();
  const events: RefreshEvent[] = [];
  const refresher = new BundleRefresher({
    bundles: set,
    fetchers,
    clock,
    timer: clock,
    onRefresh: (e) => events.push(e),
  });
  /** Advances fake time and waits for the fetches the timers started. */
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await refresher.whenIdle();
  };
  return { clock, events, refresher, set, advance };
}

describe('refresh interval (Trust Domain and Bundle §4.1.2, §6.2)', () => {
  const rows: Array<{ name: string; hint: number | undefined; ms: number }> = [
    { name: 'the default of five minutes without a hint', hint: undefined, ms: 5 * MINUTE },
    { name: 'the hint when within bounds', hint: 600, ms: 600 * SECOND },
    { name: 'the floor for a tiny hint', hint: 1, ms: DEFAULT_REFRESH_POLICY.minIntervalMs },
    { name: 'the floor for a zero hint', hint: 0, ms: DEFAULT_REFRESH_POLICY.minIntervalMs },
    { name: 'the ceiling for a hint of 28 days', hint: 2_419_200, ms: DEFAULT_REFRESH_POLICY.maxIntervalMs },
  ];
  for (const r of rows) {
    it(`uses ${r.name}`, () => {
      assert.equal(refreshIntervalMs(bundle(bob, 1, r.hint), DEFAULT_REFRESH_POLICY), r.ms);
    });
  }

  it('backs off exponentially from the first retry delay, never beyond the interval', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 100].map((n) => retryDelayMs(n, 5 * MINUTE, DEFAULT_REFRESH_POLICY));
    assert.deepEqual(
      delays,
      [5, 10, 20, 40, 80, 160, 300, 300].map((s) => s * SECOND),
    );
  });
});

describe('BundleRefresher', () => {
  it('fetches every trust domain on start and schedules each per its hint', async () => {
    const bobFetcher = new FakeBundleFetcher(bob, bundle(bob, 1, 120));
    const carolFetcher = new FakeBundleFetcher(carol, bundle(carol, 1));
    const { refresher, set, clock } = setup([bobFetcher, carolFetcher]);
    refresher.start();
    await refresher.whenIdle();
    assert.equal(set.get(bob)?.sequenceNumber, 1);
    assert.equal(set.get(carol)?.sequenceNumber, 1);
    assert.equal(clock.pendingTimers, 2);
    assert.equal(refresher.status(bob)?.nextRefreshAt?.getTime(), clock.now().getTime() + 120 * SECOND);
    assert.equal(refresher.status(carol)?.nextRefreshAt?.getTime(), clock.now().getTime() + 5 * MINUTE);
    refresher.stop();
  });

  it('refetches when the hint elapses and replaces the bundle', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1, 120));
    const { refresher, set, advance } = setup([fetcher]);
    refresher.start();
    await refresher.whenIdle();
    fetcher.serve(bundle(bob, 2, 120));
    await advance(119 * SECOND);
    assert.equal(fetcher.calls, 1);
    await advance(1 * SECOND);
    assert.equal(fetcher.calls, 2);
    assert.equal(set.get(bob)?.sequenceNumber, 2);
    refresher.stop();
  });

  it('follows a changed hint for the next interval', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1, 120));
    const { refresher, clock, advance } = setup([fetcher]);
    refresher.start();
    await refresher.whenIdle();
    fetcher.serve(bundle(bob, 2, 600));
    await advance(120 * SECOND);
    assert.equal(clock.nextTimerDelay(), 600 * SECOND);
    refresher.stop();
  });

  it('keeps the last good bundle when a fetch fails, and retries with backoff until it succeeds', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1, 300));
    const { refresher, set, clock, advance, events } = setup([fetcher]);
    refresher.start();
    await refresher.whenIdle();
    fetcher.failWith(new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', 'down'));
    await advance(300 * SECOND);
    assert.equal(set.get(bob)?.sequenceNumber, 1);
    assert.equal(refresher.status(bob)?.consecutiveFailures, 1);
    assert.equal(refresher.status(bob)?.lastError?.code, 'SPIFFE_BUNDLE_FETCH_FAILED');
    assert.equal(clock.nextTimerDelay(), 5 * SECOND);
    await advance(5 * SECOND);
    assert.equal(clock.nextTimerDelay(), 10 * SECOND);
    fetcher.serve(bundle(bob, 2, 300));
    await advance(10 * SECOND);
    assert.equal(set.get(bob)?.sequenceNumber, 2);
    assert.equal(refresher.status(bob)?.consecutiveFailures, 0);
    assert.equal(refresher.status(bob)?.lastError, undefined);
    assert.equal(clock.nextTimerDelay(), 300 * SECOND);
    assert.deepEqual(
      events.map((e) => e.ok),
      [true, false, false, true],
    );
    refresher.stop();
  });

  it('retries an initial failure with backoff capped at the default interval', async () => {
    const fetcher = new FakeBundleFetcher(bob);
    fetcher.failWith(new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED'));
    const { refresher, clock, advance, set } = setup([fetcher]);
    refresher.start();
    await refresher.whenIdle();
    for (let i = 0; i < 10; i++) await advance(clock.nextTimerDelay() ?? 0);
    assert.equal(clock.nextTimerDelay(), 5 * MINUTE);
    assert.equal(set.has(bob), false);
    refresher.stop();
  });

  const rejections: Array<{ name: string; held: SpiffeBundle; served: SpiffeBundle; code: string }> = [
    {
      name: 'a bundle of another trust domain',
      held: bundle(bob, 1),
      served: bundle(carol, 5),
      code: 'SPIFFE_BUNDLE_TRUST_DOMAIN_MISMATCH',
    },
    {
      name: 'an older sequence number',
      held: bundle(bob, 5),
      served: bundle(bob, 4),
      code: 'SPIFFE_BUNDLE_STALE_SEQUENCE',
    },
  ];
  for (const r of rejections) {
    it(`rejects ${r.name} with ${r.code} and keeps the bundle it holds`, async () => {
      const fetcher = new FakeBundleFetcher(bob, r.served);
      const { refresher, set, events } = setup([fetcher], new BundleSet([r.held]));
      const event = await refresher.refreshNow(bob);
      assert.equal(event.ok === false && event.error.code, r.code);
      assert.equal(set.get(bob), r.held);
      assert.equal(set.has(carol), false);
      assert.equal(events.length, 1);
    });
  }

  const accepted: Array<{ name: string; held: SpiffeBundle; served: SpiffeBundle }> = [
    { name: 'the same sequence number', held: bundle(bob, 5), served: bundle(bob, 5, 60) },
    { name: 'a bundle without a sequence number', held: bundle(bob, 5), served: bundle(bob) },
    { name: 'a sequenced bundle over an unsequenced one', held: bundle(bob), served: bundle(bob, 1) },
  ];
  for (const a of accepted) {
    it(`accepts ${a.name}`, async () => {
      const { refresher, set } = setup([new FakeBundleFetcher(bob, a.served)], new BundleSet([a.held]));
      assert.equal((await refresher.refreshNow(bob)).ok, true);
      assert.equal(set.get(bob), a.served);
    });
  }

  it('reports an error that is not a SpiffeError as SPIFFE_BUNDLE_FETCH_FAILED', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1));
    fetcher.failNextWith(new TypeError('boom'));
    const { refresher } = setup([fetcher]);
    const event = await refresher.refreshNow(bob);
    assert.equal(event.ok === false && event.error.code, 'SPIFFE_BUNDLE_FETCH_FAILED');
  });

  it('joins a fetch already in flight instead of starting another', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1));
    const release = fetcher.hold();
    const { refresher } = setup([fetcher]);
    const first = refresher.refreshNow(bob);
    const second = refresher.refreshNow(bob);
    release();
    assert.equal(await first, await second);
    assert.equal(fetcher.calls, 1);
  });

  it('schedules nothing after stop, even for a fetch that was in flight', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1));
    const release = fetcher.hold();
    const { refresher, clock, set } = setup([fetcher]);
    refresher.start();
    refresher.stop();
    release();
    await refresher.whenIdle();
    assert.equal(set.get(bob)?.sequenceNumber, 1);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(refresher.status(bob)?.nextRefreshAt, undefined);
  });

  it('reschedules from a manual refresh, replacing the pending timer', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1, 600));
    const { refresher, clock, advance } = setup([fetcher]);
    refresher.start();
    await refresher.whenIdle();
    await advance(100 * SECOND);
    await refresher.refreshNow(bob);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextTimerDelay(), 600 * SECOND);
    refresher.stop();
  });

  it('records when the last success happened, from the injected clock', async () => {
    const { refresher, clock } = setup([new FakeBundleFetcher(bob, bundle(bob, 1))]);
    clock.set('2030-06-01T12:00:00Z');
    await refresher.refreshNow(bob);
    assert.equal(refresher.status(bob)?.lastSuccessAt?.toISOString(), '2030-06-01T12:00:00.000Z');
    assert.equal(refresher.status(bob)?.source, 'fake for bob.example');
  });

  it('keeps refreshing when the observer throws', async () => {
    const fetcher = new FakeBundleFetcher(bob, bundle(bob, 1));
    const clock = new FakeClock();
    const set = new BundleSet();
    const refresher = new BundleRefresher({
      bundles: set,
      fetchers: [fetcher],
      clock,
      timer: clock,
      onRefresh: () => {
        throw new Error('observer bug');
      },
    });
    assert.equal((await refresher.refreshNow(bob)).ok, true);
    assert.equal(set.has(bob), true);
  });

  it('throws SPIFFE_BUNDLE_NOT_FOUND for a manual refresh of an unknown trust domain', () => {
    const { refresher } = setup([new FakeBundleFetcher(bob)]);
    assert.throws(() => refresher.refreshNow(carol), { code: 'SPIFFE_BUNDLE_NOT_FOUND' });
    assert.equal(refresher.status(carol), undefined);
  });

  it('refuses two sources for one trust domain with SPIFFE_BUNDLE_BAD_ENDPOINT', () => {
    assert.throws(() => setup([new FakeBundleFetcher(bob), new FakeBundleFetcher(bob)]), {
      code: 'SPIFFE_BUNDLE_BAD_ENDPOINT',
    });
  });
});
