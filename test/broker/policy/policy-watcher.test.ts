import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerError } from '../../../broker/errors.js';
import type { PolicyIssue } from '../../../broker/policy/policy-error.js';
import {
  createPolicyWatcher,
  fsWatchFile,
  type PolicyReloadInfo,
  type WatchFile,
} from '../../../broker/policy/policy-watcher.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { baseDocument, baseRule } from './policy-fixtures.js';

const valid = (name: string): string => JSON.stringify(baseDocument([baseRule({ name })]), null, 2);
const INVALID = 'version: 1\nrules:\n  - name: Bad Name\n    colour: blue\n';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taskpass-policy-'));
  path = join(dir, 'policy.yaml');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A watcher with recorders for its hooks. */
async function watched(extra: { watchFile?: WatchFile; clock?: FakeClock; failReload?: boolean } = {}) {
  const reloads: PolicyReloadInfo[] = [];
  const errors: Array<{ error: BrokerError; issues: readonly PolicyIssue[] }> = [];
  const watcher = await createPolicyWatcher({
    path,
    watchFile: extra.watchFile,
    timers: extra.clock,
    debounceMs: 100,
    onReload: (info) => {
      if (extra.failReload) throw new Error('ledger down');
      reloads.push(info);
    },
    onError: (error, issues) => errors.push({ error, issues }),
  });
  return { watcher, reloads, errors };
}

describe('createPolicyWatcher', () => {
  it('refuses to start on an invalid file, listing every problem', async () => {
    await writeFile(path, INVALID);
    await assert.rejects(createPolicyWatcher({ path }), (err: BrokerError & { issues?: PolicyIssue[] }) => {
      assert.equal(err.code, 'BROKER_POLICY_INVALID');
      assert.ok((err.issues?.length ?? 0) >= 2);
      return true;
    });
  });

  it('goes valid -> invalid (keeps the old policy) -> valid (takes the new one)', async () => {
    await writeFile(path, valid('first'));
    const { watcher, reloads, errors } = await watched();
    const first = watcher.current();
    assert.equal(first.rules[0]?.name, 'first');

    await writeFile(path, INVALID);
    const bad = await watcher.reload();
    assert.equal(bad.ok, false);
    assert.equal(watcher.current(), first, 'the old policy stays in force');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.error.code, 'BROKER_POLICY_INVALID');
    assert.deepEqual(errors[0]?.issues.map((i) => i.path).sort(), [
      'rules[0].colour',
      'rules[0].intents',
      'rules[0].match',
      'rules[0].max_credential_ttl',
      'rules[0].max_task_lifetime',
      'rules[0].name',
      'rules[0].providers',
    ]);
    assert.equal(reloads.length, 0);

    await writeFile(path, valid('second'));
    const good = await watcher.reload();
    assert.ok(good.ok && good.changed);
    assert.equal(watcher.current().rules[0]?.name, 'second');
    assert.deepEqual(reloads, [
      { version: 1, sha256: watcher.current().sha256, revision: undefined, previousSha256: first.sha256 },
    ]);
    // A request that took the first snapshot still decides with it.
    assert.equal(first.rules[0]?.name, 'first');
    watcher.close();
  });

  it('does not report a reload when the content is unchanged', async () => {
    await writeFile(path, valid('same'));
    const { watcher, reloads } = await watched();
    const result = await watcher.reload();
    assert.ok(result.ok && !result.changed);
    assert.equal(reloads.length, 0);
  });

  it('keeps the old policy when the reload hook (the ledger) fails', async () => {
    await writeFile(path, valid('first'));
    const { watcher, errors } = await watched({ failReload: true });
    await writeFile(path, valid('second'));
    const result = await watcher.reload();
    assert.equal(result.ok, false);
    assert.equal(watcher.current().rules[0]?.name, 'first');
    assert.equal(errors[0]?.error.code, 'BROKER_INTERNAL');
  });

  it('reports a vanished file as unreadable and keeps the policy', async () => {
    await writeFile(path, valid('first'));
    const { watcher, errors } = await watched();
    await rm(path);
    assert.equal((await watcher.reload()).ok, false);
    assert.equal(errors[0]?.error.code, 'BROKER_POLICY_UNREADABLE');
    assert.equal(watcher.current().rules[0]?.name, 'first');
  });

  it('debounces file-change notifications into one reload', async () => {
    await writeFile(path, valid('first'));
    const clock = new FakeClock();
    let notify = (): void => {};
    let closed = false;
    const watchFile: WatchFile = (_p, onChange) => {
      notify = onChange;
      return { close: () => (closed = true) };
    };
    const { watcher, reloads } = await watched({ watchFile, clock });
    await writeFile(path, valid('second'));
    notify();
    clock.advance(50);
    notify();
    clock.advance(99);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(1);
    // The reload runs asynchronously after the timer fires; wait for it through the serial chain.
    await watcher.reload();
    assert.equal(reloads.length, 1);
    assert.equal(watcher.current().rules[0]?.name, 'second');
    watcher.close();
    assert.ok(closed);
    notify();
    assert.equal(clock.pendingTimers, 0, 'no reload is scheduled after close');
  });

  it('sees a replace-by-rename through fs.watch', async () => {
    await writeFile(path, valid('first'));
    const { watcher } = await watched({ watchFile: fsWatchFile });
    const staged = join(dir, 'policy.yaml.tmp');
    await writeFile(staged, valid('renamed'));
    await rename(staged, path);
    for (let i = 0; i < 100 && watcher.current().rules[0]?.name !== 'renamed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(watcher.current().rules[0]?.name, 'renamed');
    watcher.close();
  });
});
