// What a `taskpass` process loads before it runs a command: every command module is loaded on every
// invocation, so a command that needs the broker (fastify, PGlite, gRPC, pg, the AWS SDK…) must load
// it when it runs, not at the top of its module. Real processes, packages traced by a resolve hook.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PACKAGE_LINE } from './support/trace-packages-hooks.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../broker/cli/main.js', import.meta.url));
const TRACE = fileURLToPath(new URL('./support/trace-packages.js', import.meta.url));

/** The npm packages `taskpass …args` loads, and its exit status. */
async function packagesOf(args: readonly string[]): Promise<{ packages: Set<string>; code: number }> {
  const out = await run(process.execPath, ['--import', TRACE, CLI, ...args], { env: {} }).then(
    (r) => ({ ...r, code: 0 }),
    (err: { stderr: string; code: number }) => ({ stderr: err.stderr, code: err.code }),
  );
  const packages = out.stderr
    .split('\n')
    .filter((l) => l.startsWith(PACKAGE_LINE))
    .map((l) => l.slice(PACKAGE_LINE.length));
  return { packages: new Set(packages), code: out.code };
}

describe('taskpass start-up', { timeout: 60_000 }, () => {
  const light: readonly (readonly string[])[] = [
    ['id', 'parse', 'spiffe://taskpass.local/agents/a'],
    ['id', 'parse', 'spiffe://taskpass.local/../root'],
    ['--help'],
    ['tasks', 'ls', '--limit', 'none'],
    ['signal', '--kind', 'x', '--severity', 'low'],
  ];
  for (const args of light) {
    it(`taskpass ${args.join(' ')} loads commander alone`, async () => {
      const { packages } = await packagesOf(args);
      assert.deepEqual([...packages].sort(), ['commander']);
    });
  }

  it('the tracer sees what a command really loads: svid verify loads the X.509 and JOSE libraries', async () => {
    const { packages, code } = await packagesOf([
      'svid',
      'verify',
      '--bundle',
      '/nonexistent',
      '--jwt',
      'a.b.c',
      '--audience',
      'x',
    ]);
    assert.notEqual(code, 0);
    for (const name of ['commander', 'jose', 'pkijs']) assert.ok(packages.has(name), name);
    for (const name of ['fastify', '@electric-sql/pglite', '@grpc/grpc-js'])
      assert.ok(!packages.has(name), name);
  });
});
