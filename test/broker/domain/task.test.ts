import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertTaskUsableBy,
  effectiveTaskStatus,
  manifestEntryFor,
  transitionTask,
  type Task,
  type TaskStatus,
} from '../../../broker/domain/task.js';
import { BrokerError, type BrokerErrorCode } from '../../../broker/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

const NOW = new Date('2025-01-01T00:00:00Z');
const OWNER = SpiffeId.parse('spiffe://taskpass.local/agents/a');
const OTHER = SpiffeId.parse('spiffe://taskpass.local/agents/b');

function task(status: TaskStatus = 'active', deadlineSeconds = 600): Task {
  return Object.freeze({
    id: 't-1',
    workload: OWNER,
    intent: { name: 'summarize-ticket', text: 'ticket 123' },
    manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
    createdAt: new Date(NOW.getTime() - 60_000),
    deadline: new Date(NOW.getTime() + deadlineSeconds * 1000),
    parent: null,
    status,
  });
}

const rejects = (code: BrokerErrorCode) => (err: unknown) => err instanceof BrokerError && err.code === code;

describe('transitionTask', () => {
  const allowed: Array<[TaskStatus, number]> = [
    ['completed', 600],
    ['failed', 600],
    ['revoked', 600],
    ['revoked', -1],
    ['expired', -1],
    ['expired', 0],
  ];
  for (const [to, deadline] of allowed) {
    it(`moves an active task with deadline ${deadline}s away to ${to}`, () => {
      const before = task('active', deadline);
      const after = transitionTask(before, to, NOW);
      assert.equal(after.status, to);
      assert.equal(before.status, 'active', 'the original value is unchanged');
      assert.ok(Object.isFrozen(after));
    });
  }

  const refused: Array<{ from: TaskStatus; to: TaskStatus; deadline?: number; code: BrokerErrorCode }> = [
    { from: 'completed', to: 'completed', code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'completed', to: 'failed', code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'failed', to: 'revoked', code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'expired', to: 'completed', code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'revoked', to: 'expired', code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'active', to: 'completed', deadline: -1, code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'active', to: 'failed', deadline: 0, code: 'BROKER_TASK_ALREADY_ENDED' },
    { from: 'active', to: 'expired', deadline: 600, code: 'BROKER_TASK_BAD_TRANSITION' },
    { from: 'active', to: 'active', code: 'BROKER_TASK_BAD_TRANSITION' },
    { from: 'revoked', to: 'active', code: 'BROKER_TASK_BAD_TRANSITION' },
  ];
  for (const row of refused) {
    it(`refuses ${row.from} -> ${row.to}${row.deadline !== undefined ? ` (deadline ${row.deadline}s)` : ''} with ${row.code}`, () => {
      assert.throws(() => transitionTask(task(row.from, row.deadline), row.to, NOW), rejects(row.code));
    });
  }
});

describe('effectiveTaskStatus', () => {
  it('reports an overdue active task as expired before the sweeper runs', () => {
    assert.equal(effectiveTaskStatus(task('active', 0), NOW), 'expired');
    assert.equal(effectiveTaskStatus(task('active', 1), NOW), 'active');
    assert.equal(effectiveTaskStatus(task('revoked', -5), NOW), 'revoked');
  });
});

describe('assertTaskUsableBy', () => {
  it('accepts the owner of an active task', () => {
    assertTaskUsableBy(task(), OWNER, NOW);
  });
  it("answers another workload's task as not found", () => {
    assert.throws(() => assertTaskUsableBy(task(), OTHER, NOW), rejects('BROKER_TASK_NOT_FOUND'));
  });
  it("answers another workload's ended task as not found too", () => {
    assert.throws(() => assertTaskUsableBy(task('completed'), OTHER, NOW), rejects('BROKER_TASK_NOT_FOUND'));
  });
  it('refuses an ended or overdue task', () => {
    assert.throws(() => assertTaskUsableBy(task('failed'), OWNER, NOW), rejects('BROKER_TASK_ALREADY_ENDED'));
    assert.throws(
      () => assertTaskUsableBy(task('active', -1), OWNER, NOW),
      rejects('BROKER_TASK_ALREADY_ENDED'),
    );
  });
});

describe('manifestEntryFor', () => {
  it('finds the declared provider and nothing else', () => {
    assert.deepEqual(manifestEntryFor(task(), 'crm-api')?.scopes, ['crm:read']);
    assert.equal(manifestEntryFor(task(), 'vault-kv'), undefined);
  });
});
