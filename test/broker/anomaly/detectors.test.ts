import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnomalyObserver } from '../../../broker/anomaly/anomaly-observer.js';
import type { BuiltInDetector } from '../../../broker/anomaly/anomaly-policy.js';
import { createBuiltInDetectors } from '../../../broker/anomaly/detectors.js';
import type { Signal } from '../../../broker/anomaly/signal.js';
import { createSlidingWindows } from '../../../broker/anomaly/sliding-window.js';
import type { BrokerErrorCode } from '../../../broker/errors.js';
import { parsePolicy } from '../../../broker/policy/load-policy.js';
import type { Policy } from '../../../broker/policy/policy-types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { baseDocument } from '../policy/policy-fixtures.js';

const W = SpiffeId.parse('spiffe://taskpass.local/agents/a1');
const W2 = SpiffeId.parse('spiffe://taskpass.local/agents/a2');
const TASK = '0b7a3c9e-2f4d-4c61-9a1e-5d3b8f6a7c21';
const TASK2 = '1c8b4daf-3a5e-4d72-8b2f-6e4c9a7b8d32';

/** Thresholds of 3 in 60 s and a 120 s cooldown for every detector. */
function policyWith(extra: Record<string, unknown> = {}): Policy {
  const d = { threshold: 3, window: '60s', cooldown: '120s' };
  return parsePolicy(
    JSON.stringify(
      baseDocument(undefined, {
        anomaly_responses: {
          detectors: {
            issuance_burst: d,
            out_of_manifest: d,
            ended_task_request: d,
            svid_replay: d,
            ended_task_introspection: d,
            ...extra,
          },
        },
      }),
    ),
  );
}

function setup(policy: Policy = policyWith()) {
  const clock = new FakeClock();
  const raised: { detector: BuiltInDetector; signal: Signal }[] = [];
  const holder = { policy };
  const observer = createBuiltInDetectors({
    policy: { current: () => holder.policy },
    raise: (detector, signal) => raised.push({ detector, signal }),
  });
  return { clock, raised, observer, holder };
}

const denied = (why: string, code: BrokerErrorCode, clock: FakeClock, taskId = TASK, workload = W) =>
  ({ workload, taskId, provider: 'crm-api', why, code, now: clock.now() }) as const;

/** One detector's pattern, as observer calls. */
interface Pattern {
  detector: BuiltInDetector;
  fire(o: AnomalyObserver, clock: FakeClock): void;
  /** The same pattern for another key (must be counted apart). */
  other(o: AnomalyObserver, clock: FakeClock): void;
  subject: Record<string, unknown>;
}

const patterns: Pattern[] = [
  {
    detector: 'issuance_burst',
    fire: (o, c) => o.credentialDenied(denied('rate', 'BROKER_POLICY_RATE_LIMITED', c)),
    other: (o, c) => o.credentialDenied(denied('rate', 'BROKER_POLICY_RATE_LIMITED', c, TASK, W2)),
    subject: { workload: W },
  },
  {
    detector: 'out_of_manifest',
    fire: (o, c) => o.credentialDenied(denied('scope_manifest', 'BROKER_POLICY_DENIED', c)),
    other: (o, c) => o.credentialDenied(denied('scope_manifest', 'BROKER_POLICY_DENIED', c, TASK2)),
    subject: { taskId: TASK },
  },
  {
    detector: 'ended_task_request',
    fire: (o, c) => o.credentialDenied(denied('task', 'BROKER_TASK_ALREADY_ENDED', c)),
    other: (o, c) => o.credentialDenied(denied('task', 'BROKER_ISSUANCE_TASK_EXPIRED', c, TASK, W2)),
    subject: { workload: W },
  },
  {
    detector: 'svid_replay',
    fire: (o, c) => o.svidReplayed({ workload: W, now: c.now() }),
    other: (o, c) => o.svidReplayed({ workload: W2, now: c.now() }),
    subject: { workload: W },
  },
  {
    detector: 'ended_task_introspection',
    fire: (o, c) =>
      o.endedTaskIntrospected({
        workload: W,
        taskId: TASK,
        credentialId: TASK2,
        taskStatus: 'completed',
        now: c.now(),
      }),
    other: (o, c) =>
      o.endedTaskIntrospected({
        workload: W2,
        taskId: TASK2,
        credentialId: TASK,
        taskStatus: 'revoked',
        now: c.now(),
      }),
    subject: { workload: W },
  },
];

describe('built-in detectors', () => {
  for (const p of patterns) {
    describe(p.detector, () => {
      it('fires once at the threshold within the window, not below it', () => {
        const { clock, raised, observer } = setup();
        p.fire(observer, clock);
        clock.advance(20_000);
        p.fire(observer, clock);
        p.other(observer, clock);
        p.other(observer, clock);
        assert.equal(raised.length, 0, 'two of three, per key');
        clock.advance(20_000);
        p.fire(observer, clock);
        assert.equal(raised.length, 1);
        const { detector, signal } = raised[0]!;
        assert.equal(detector, p.detector);
        assert.equal(signal.kind, `broker.${p.detector}`);
        assert.deepEqual(signal.subject, p.subject);
        assert.deepEqual([signal.evidence?.['count'], signal.evidence?.['window_seconds']], [3, 60]);
        assert.equal(signal.occurredAt?.getTime(), clock.now().getTime());
      });

      it('does not fire when the events are spread wider than the window', () => {
        const { clock, raised, observer } = setup();
        for (let i = 0; i < 6; i++) {
          p.fire(observer, clock);
          clock.advance(31_000);
        }
        assert.equal(raised.length, 0);
      });

      it('stays quiet during the cooldown, then counts afresh', () => {
        const { clock, raised, observer } = setup();
        for (let i = 0; i < 3; i++) p.fire(observer, clock);
        for (let i = 0; i < 5; i++) p.fire(observer, clock);
        assert.equal(raised.length, 1, 'one incident, one signal');
        clock.advance(121_000);
        for (let i = 0; i < 3; i++) p.fire(observer, clock);
        assert.equal(raised.length, 2);
      });

      it('counts nothing when disabled (read at each event)', () => {
        const { clock, raised, observer, holder } = setup();
        holder.policy = policyWith({ [p.detector]: { enabled: false } });
        for (let i = 0; i < 5; i++) p.fire(observer, clock);
        assert.equal(raised.length, 0);
      });
    });
  }

  it('ignores refusals of other kinds (quota, policy, not found)', () => {
    const { clock, raised, observer } = setup();
    for (let i = 0; i < 5; i++) {
      observer.credentialDenied(denied('quota', 'BROKER_POLICY_QUOTA_EXCEEDED', clock));
      observer.credentialDenied(denied('provider', 'BROKER_POLICY_DENIED', clock));
      observer.credentialDenied(denied('task', 'BROKER_TASK_NOT_FOUND', clock));
    }
    assert.equal(raised.length, 0);
  });

  it('never throws into the observed path, even when raising fails', () => {
    const observer = createBuiltInDetectors({
      policy: { current: () => policyWith({ svid_replay: { threshold: 1 } }) },
      raise: () => {
        throw new Error('boom');
      },
    });
    assert.doesNotThrow(() => observer.svidReplayed({ workload: W, now: new Date(0) }));
  });

  it('bounds the keys it holds', () => {
    const w = createSlidingWindows({ maxKeys: 3 });
    const s = { threshold: 2, windowSeconds: 60, cooldownSeconds: 0 };
    for (const k of ['a', 'b', 'c', 'd']) w.hit(k, 0, s);
    assert.equal(w.size, 3);
    assert.equal(w.hit('a', 1, s), undefined, 'a was forgotten: its count starts again');
    assert.equal(w.hit('d', 1, s), 2);
  });
});
