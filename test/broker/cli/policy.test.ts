import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../support/repo-root.js';
import { runCliCaptured } from '../../support/run-cli.js';

const EXAMPLE = join(repositoryRoot(), 'examples', 'policy.yaml');

describe('taskpass policy check', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'tp-policy-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('accepts the shipped example policy and names its rules', async () => {
    const out = await runCliCaptured(['policy', 'check', EXAMPLE, '--json']);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const result = JSON.parse(out.stdout) as { valid: boolean; sha256: string; rules: string[] };
    assert.equal(result.valid, true);
    assert.match(result.sha256, /^[0-9a-f]{64}$/);
    assert.ok(result.rules.length > 0);
  });

  it('lists every problem of an invalid file with its location and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'rules:',
        '  - name: a',
        '    match: { id: "spiffe://td/a/../b" }',
        '    colour: red',
        '',
      ].join('\n'),
    );
    const out = await runCliCaptured(['policy', 'check', file, '--json']);
    assert.equal(out.code, 2);
    const result = JSON.parse(out.stdout) as {
      error: { code: string };
      issues: Array<{ path: string; kind: string }>;
    };
    assert.equal(result.error.code, 'BROKER_POLICY_INVALID');
    const kinds = result.issues.map((i) => i.kind);
    assert.ok(kinds.includes('bad_matcher'), JSON.stringify(result.issues));
    assert.ok(kinds.includes('unknown_key'), JSON.stringify(result.issues));
    assert.ok(result.issues.every((i) => i.path.startsWith('rules[0]')));
  });

  it('reports an unreadable file with BROKER_POLICY_UNREADABLE', async () => {
    const out = await runCliCaptured(['policy', 'check', join(dir, 'missing.yaml'), '--json']);
    assert.notEqual(out.code, 0);
    assert.equal(JSON.parse(out.stdout).error.code, 'BROKER_POLICY_UNREADABLE');
  });
});
