import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkSignal, severityRank, type SignalInput } from '../../../broker/anomaly/signal.js';
import { BrokerError } from '../../../broker/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

const TASK = '0b7a3c9e-2f4d-4c61-9a1e-5d3b8f6a7c21';
const base: SignalInput = {
  kind: 'prompt_injection',
  severity: 'high',
  subject: { taskId: TASK },
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BrokerError);
    return err.code;
  }
  assert.fail('accepted');
}

describe('checkSignal', () => {
  it('accepts a task subject, a workload subject, description, evidence and time', () => {
    const s = checkSignal({
      ...base,
      kind: 'guardrail.jailbreak-v2',
      description: 'the agent tried to read /etc/shadow',
      evidence: { rule: 'fs.sensitive', paths: ['/etc/shadow'], score: 0.97 },
      occurredAt: new Date('2025-01-01T00:00:00Z'),
    });
    assert.deepEqual(s.subject, { taskId: TASK });
    assert.equal(s.evidence?.['score'], 0.97);
    const w = checkSignal({ ...base, subject: { workload: 'spiffe://td/agents/a' } });
    assert.ok('workload' in w.subject && w.subject.workload.equals(SpiffeId.parse('spiffe://td/agents/a')));
  });

  it('orders severities low < medium < high < critical', () => {
    assert.deepEqual((['critical', 'low', 'high', 'medium'] as const).map(severityRank), [3, 0, 2, 1]);
  });

  const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
  const rows: { name: string; input: SignalInput; builtIn?: boolean }[] = [
    { name: 'an upper-case kind', input: { ...base, kind: 'Prompt' } },
    { name: 'an empty kind', input: { ...base, kind: '' } },
    { name: 'a kind of 65 characters', input: { ...base, kind: 'k'.repeat(65) } },
    { name: 'a reserved broker.* kind from a caller', input: { ...base, kind: 'broker.svid_replay' } },
    { name: 'an unknown severity', input: { ...base, severity: 'severe' } },
    { name: 'no subject member', input: { ...base, subject: {} } },
    { name: 'two subject members', input: { ...base, subject: { taskId: TASK, workload: 'spiffe://td/a' } } },
    { name: 'a task id that is not a uuid', input: { ...base, subject: { taskId: 'task-1' } } },
    { name: 'a workload that is not a spiffe id', input: { ...base, subject: { workload: 'https://td/a' } } },
    { name: 'an empty description', input: { ...base, description: '' } },
    { name: 'a description over 1024', input: { ...base, description: 'x'.repeat(1025) } },
    { name: 'evidence that is a list', input: { ...base, evidence: [1, 2] } },
    { name: 'evidence over 4 KiB', input: { ...base, evidence: { blob: 'x'.repeat(4100) } } },
    { name: 'evidence six levels deep', input: { ...base, evidence: deep } },
    { name: 'evidence with a non-json value', input: { ...base, evidence: { at: new Date(0) } } },
    { name: 'an invalid date', input: { ...base, occurredAt: new Date('nope') } },
  ];
  for (const row of rows) {
    it(`refuses ${row.name} with BROKER_INPUT_INVALID`, () => {
      assert.equal(
        codeOf(() => checkSignal(row.input)),
        'BROKER_INPUT_INVALID',
      );
    });
  }

  it('accepts a broker.* kind from a built-in detector only', () => {
    assert.equal(
      checkSignal({ ...base, kind: 'broker.svid_replay' }, { builtIn: true }).kind,
      'broker.svid_replay',
    );
  });
});
