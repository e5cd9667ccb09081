import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured } from '../../support/run-cli.js';

const ID = 'spiffe://taskpass.local/agents/summarizer';

describe('taskpass svid mint and verify', () => {
  let dir: string;
  let dataDir: string;
  const run = (...argv: string[]) => runCliCaptured([...argv, '--json', '--data-dir', dataDir]);
  const runNoData = (...argv: string[]) => runCliCaptured([...argv, '--json']);
  const json = (out: { stdout: string }) => JSON.parse(out.stdout) as Record<string, unknown>;
  const errorCode = (out: { stdout: string }) => (json(out).error as { code: string }).code;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskpass-cli-'));
    dataDir = join(dir, 'data');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('mints an X509-SVID to files that verify against the written bundle', async () => {
    const out = join(dir, 'x509');
    const minted = await run('svid', 'mint', '--id', ID, '--x509', '--out', out, '--ttl', '10m');
    assert.equal(minted.code, 0, minted.stderr);
    const files = json(minted).files as Record<string, string>;
    assert.equal((await stat(files.key!)).mode & 0o777, 0o600);
    const verified = await runNoData('svid', 'verify', '--bundle', files.bundle!, '--x509', files.chain!);
    assert.equal(verified.code, 0, verified.stdout);
    assert.equal(json(verified).spiffe_id, ID);
    assert.equal(json(verified).expires_at, json(minted).expires_at);
  });

  it('rejects the X509-SVID after it expires (--now)', async () => {
    const out = join(dir, 'x509-exp');
    await run('svid', 'mint', '--id', ID, '--x509', '--out', out, '--ttl', '1m');
    const later = String(Math.floor(Date.now() / 1000) + 3600);
    const res = await runNoData(
      'svid',
      'verify',
      '--bundle',
      join(out, 'bundle.0.pem'),
      '--x509',
      join(out, 'svid.0.pem'),
      '--now',
      later,
    );
    assert.notEqual(res.code, 0);
    assert.equal(errorCode(res), 'SPIFFE_X509_EXPIRED');
  });

  it('mints a JWT-SVID that verifies with the SPIFFE bundle for its audience only', async () => {
    const minted = await run('svid', 'mint', '--id', ID, '--jwt', '--audience', 'crm-api');
    assert.equal(minted.code, 0, minted.stderr);
    const shown = await runCliCaptured(['bundle', 'show', '--data-dir', dataDir]);
    const bundleFile = join(dir, 'bundle.json');
    await writeFile(bundleFile, shown.stdout);
    const token = json(minted).token as string;
    const ok = await runNoData(
      'svid',
      'verify',
      '--bundle',
      bundleFile,
      '--jwt',
      token,
      '--audience',
      'crm-api',
    );
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(json(ok).spiffe_id, ID);
    const wrongAud = await runNoData(
      'svid',
      'verify',
      '--bundle',
      bundleFile,
      '--jwt',
      token,
      '--audience',
      'other',
    );
    assert.equal(errorCode(wrongAud), 'SPIFFE_JWT_AUDIENCE_MISMATCH');
    const foreign = await runNoData(
      'svid',
      'verify',
      '--bundle',
      `other.test=${bundleFile}`,
      '--jwt',
      token,
      '--audience',
      'crm-api',
    );
    assert.equal(errorCode(foreign), 'SPIFFE_BUNDLE_NOT_FOUND');
  });

  const refusals: Array<[string, string[], string]> = [
    [
      'an ID of another trust domain',
      ['svid', 'mint', '--id', 'spiffe://other.test/a', '--jwt', '--audience', 'a'],
      'SPIFFE_CA_FOREIGN_TRUST_DOMAIN',
    ],
    ['both --x509 and --jwt', ['svid', 'mint', '--id', ID, '--x509', '--jwt'], 'BROKER_CLI_USAGE'],
    ['--jwt without --audience', ['svid', 'mint', '--id', ID, '--jwt'], 'BROKER_CLI_USAGE'],
    [
      'a malformed --ttl',
      ['svid', 'mint', '--id', ID, '--jwt', '--audience', 'a', '--ttl', '5 minutes'],
      'BROKER_INPUT_BAD_DURATION',
    ],
    [
      'a malformed ID',
      ['svid', 'mint', '--id', 'spiffe://taskpass.local/a//b', '--jwt', '--audience', 'a'],
      'SPIFFE_ID_EMPTY_SEGMENT',
    ],
    [
      'a missing bundle file',
      ['svid', 'verify', '--bundle', '/nonexistent/b.pem', '--jwt', 'a.b.c', '--audience', 'a'],
      'BROKER_CLI_FILE_UNREADABLE',
    ],
    [
      'a malformed token',
      ['svid', 'verify', '--bundle', '/dev/null', '--jwt', 'a.b.c', '--audience', 'a'],
      'SPIFFE_JWT_MALFORMED',
    ],
  ];
  for (const [what, argv, code] of refusals) {
    it(`refuses ${what} with ${code}`, async () => {
      const res = argv[1] === 'mint' ? await run(...argv) : await runNoData(...argv);
      assert.notEqual(res.code, 0);
      assert.equal(errorCode(res), code);
    });
  }
});
