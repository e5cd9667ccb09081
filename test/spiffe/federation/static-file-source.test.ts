import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  StaticFileSource,
  loadBundleFile,
  parseBundleFileSpec,
} from '../../../spiffe/federation/static-file-source.js';
import { marshalBundle } from '../../../spiffe/bundle-json.js';
import { SpiffeBundle } from '../../../spiffe/bundle.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../../spiffe/errors.js';
import { createTestRoot, type TestCert } from '../bundle-fixtures.js';

const td = TrustDomain.parse('example.org');
let dir: string;
let root: TestCert;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taskpass-bundle-'));
  root = await createTestRoot('example.org');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseBundleFileSpec', () => {
  const valid: Array<{ spec: string; trustDomain: string | undefined; path: string }> = [
    { spec: 'bundle.json', trustDomain: undefined, path: 'bundle.json' },
    { spec: 'example.org=bundle.json', trustDomain: 'example.org', path: 'bundle.json' },
    { spec: 'example.org=/etc/spiffe/a=b.pem', trustDomain: 'example.org', path: '/etc/spiffe/a=b.pem' },
    { spec: './a=b.json', trustDomain: undefined, path: './a=b.json' },
    { spec: '/etc/x=y/bundle.json', trustDomain: undefined, path: '/etc/x=y/bundle.json' },
    { spec: '=bundle.json', trustDomain: undefined, path: '=bundle.json' },
  ];
  for (const c of valid) {
    it(`reads ${c.spec}`, () => {
      const parsed = parseBundleFileSpec(c.spec);
      assert.equal(parsed.trustDomain?.name, c.trustDomain);
      assert.equal(parsed.path, c.path);
    });
  }

  const invalid: Array<{ spec: string; code: SpiffeErrorCode }> = [
    { spec: 'Example.org=bundle.json', code: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR' },
    { spec: 'example.org:8443=bundle.json', code: 'SPIFFE_ID_HAS_PORT' },
    { spec: 'example.org=', code: 'SPIFFE_BUNDLE_BAD_ENDPOINT' },
    { spec: '', code: 'SPIFFE_BUNDLE_BAD_ENDPOINT' },
  ];
  for (const c of invalid) {
    it(`rejects ${JSON.stringify(c.spec)} with ${c.code}`, () => {
      assert.throws(() => parseBundleFileSpec(c.spec), { code: c.code });
    });
  }
});

describe('loadBundleFile', () => {
  it('loads a SPIFFE bundle (JWK Set)', async () => {
    const path = join(dir, 'bundle.json');
    await writeFile(
      path,
      marshalBundle(new SpiffeBundle({ trustDomain: td, x509Authorities: [root.cert], sequenceNumber: 4 })),
    );
    const bundle = await loadBundleFile(td, path);
    assert.equal(bundle.sequenceNumber, 4);
    assert.equal(bundle.x509Authorities[0]?.equal(root.cert), true);
  });

  it('loads PEM roots as an X.509-only bundle', async () => {
    const path = join(dir, 'roots.pem');
    await writeFile(path, root.certPem);
    const bundle = await loadBundleFile(td, path);
    assert.equal(bundle.x509Authorities.length, 1);
    assert.equal(bundle.trustDomain.equals(td), true);
  });

  const failures: Array<{ name: string; content?: string; code: SpiffeErrorCode }> = [
    { name: 'a missing file', code: 'SPIFFE_BUNDLE_FETCH_FAILED' },
    { name: 'an empty file', content: '', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'a truncated JSON file', content: '{"keys": [', code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'a PEM private key',
      content: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
  ];
  for (const [i, c] of failures.entries()) {
    it(`rejects ${c.name} with ${c.code}`, async () => {
      const path = join(dir, `bad-${i}`);
      if (c.content !== undefined) await writeFile(path, c.content);
      await assert.rejects(loadBundleFile(td, path), { code: c.code });
    });
  }

  it('rejects a directory with SPIFFE_BUNDLE_FETCH_FAILED', async () => {
    await assert.rejects(loadBundleFile(td, dir), { code: 'SPIFFE_BUNDLE_FETCH_FAILED' });
  });
});

describe('StaticFileSource', () => {
  it('re-reads the file at each fetch', async () => {
    const path = join(dir, 'rotating.json');
    const source = new StaticFileSource(td, path);
    await writeFile(path, marshalBundle(new SpiffeBundle({ trustDomain: td, sequenceNumber: 1 })));
    assert.equal((await source.fetchBundle()).sequenceNumber, 1);
    await writeFile(path, marshalBundle(new SpiffeBundle({ trustDomain: td, sequenceNumber: 2 })));
    assert.equal((await source.fetchBundle()).sequenceNumber, 2);
  });

  it('describes itself by path and trust domain', () => {
    assert.equal(new StaticFileSource(td, '/etc/b.json').describe(), 'file /etc/b.json for example.org');
  });
});
