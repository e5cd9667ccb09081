import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCa, KEY_STORE_FILES, createCaKeyStore } from '../../../spiffe/ca/index.js';
import { isSpiffeError, type SpiffeErrorCode } from '../../../spiffe/errors.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';

const td = TrustDomain.parse('example.org');
const t0 = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => t0 };

function rejectsWith(code: SpiffeErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isSpiffeError(err), `expected a SpiffeError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

async function withDataDir(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'taskpass-ca-'));
  try {
    await fn(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const caFile = (dataDir: string, name: string): string => join(dataDir, 'ca', name);
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const caPem = (ca: Awaited<ReturnType<typeof createDevCa>>): string | undefined =>
  ca.bundle().x509Authorities[0]?.toString('pem');

describe('CA key store', () => {
  it('keeps the CA certificate and JWT keys across re-creation from the same data directory', () =>
    withDataDir(async (dataDir) => {
      const first = await createDevCa({ trustDomain: td, clock, dataDir });
      await first.rotateJwtKey();
      const second = await createDevCa({ trustDomain: td, clock, dataDir });
      assert.equal(caPem(second), caPem(first));
      assert.deepEqual([...second.bundle().jwtAuthorities.keys()], [...first.bundle().jwtAuthorities.keys()]);
      assert.deepEqual(
        [...second.bundle().jwtAuthorities.values()],
        [...first.bundle().jwtAuthorities.values()],
      );
    }));

  it('writes private files 0600 in a 0700 directory, without leftover temp files', () =>
    withDataDir(async (dataDir) => {
      await createDevCa({ trustDomain: td, clock, dataDir });
      assert.equal(await mode(join(dataDir, 'ca')), 0o700);
      assert.equal(await mode(caFile(dataDir, KEY_STORE_FILES.x509Key)), 0o600);
      assert.equal(await mode(caFile(dataDir, KEY_STORE_FILES.jwtKeys)), 0o600);
      const files = (await readdir(join(dataDir, 'ca'))).sort();
      assert.deepEqual(files, Object.values(KEY_STORE_FILES).sort());
      const keyPem = await readFile(caFile(dataDir, KEY_STORE_FILES.x509Key), 'utf8');
      assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    }));

  it('re-creates the CA certificate once it has expired', () =>
    withDataDir(async (dataDir) => {
      const first = await createDevCa({ trustDomain: td, clock, dataDir, caTtlSeconds: 60 });
      const later = { now: () => new Date(t0.getTime() + 61_000) };
      const second = await createDevCa({ trustDomain: td, clock: later, dataDir, caTtlSeconds: 60 });
      assert.notEqual(caPem(second), caPem(first));
      const third = await createDevCa({ trustDomain: td, clock: later, dataDir, caTtlSeconds: 60 });
      assert.equal(caPem(third), caPem(second));
    }));

  it('rotates to a new key when the JWT algorithm changes, keeping the old one published', () =>
    withDataDir(async (dataDir) => {
      const es = await createDevCa({ trustDomain: td, clock, dataDir });
      const [esKid] = es.bundle().jwtAuthorities.keys();
      const rs = await createDevCa({ trustDomain: td, clock, dataDir, jwtAlgorithm: 'RS256' });
      const kids = [...rs.bundle().jwtAuthorities.keys()];
      assert.equal(kids.length, 2);
      assert.equal(kids[0], esKid);
      assert.equal(rs.bundle().jwtAuthorities.get(kids[1] as string)?.kty, 'RSA');
    }));

  it('keeps nothing on disk in memory mode', async () => {
    const store = createCaKeyStore();
    assert.equal(store.directory, undefined);
    assert.equal(await store.loadX509Authority(), undefined);
    assert.equal(await store.loadJwtKeys(), undefined);
  });
});

describe('CA key store rejects what it cannot trust', () => {
  const corruptions: { name: string; corrupt: (dataDir: string) => Promise<void> }[] = [
    {
      name: 'a garbled private key',
      corrupt: (d) => writeFile(caFile(d, KEY_STORE_FILES.x509Key), 'not a key'),
    },
    {
      name: 'a garbled certificate',
      corrupt: (d) =>
        writeFile(
          caFile(d, KEY_STORE_FILES.x509Cert),
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        ),
    },
    { name: 'a missing certificate', corrupt: (d) => rm(caFile(d, KEY_STORE_FILES.x509Cert)) },
    {
      name: 'jwt keys that are not json',
      corrupt: (d) => writeFile(caFile(d, KEY_STORE_FILES.jwtKeys), '{'),
    },
    {
      name: 'jwt keys of an unknown shape',
      corrupt: (d) => writeFile(caFile(d, KEY_STORE_FILES.jwtKeys), '{"version":2,"keys":[]}'),
    },
    {
      name: 'a jwt key whose kid does not match',
      corrupt: async (d) => {
        const path = caFile(d, KEY_STORE_FILES.jwtKeys);
        const file = JSON.parse(await readFile(path, 'utf8')) as { keys: { kid: string }[] };
        (file.keys[0] as { kid: string }).kid = 'forged';
        await writeFile(path, JSON.stringify(file));
      },
    },
    {
      name: 'a certificate of another key',
      corrupt: async (d) => {
        await withDataDir(async (other) => {
          await createDevCa({ trustDomain: td, clock, dataDir: other });
          const foreign = await readFile(caFile(other, KEY_STORE_FILES.x509Cert));
          await writeFile(caFile(d, KEY_STORE_FILES.x509Cert), foreign);
        });
      },
    },
  ];
  for (const c of corruptions) {
    it(`fails with SPIFFE_CA_KEY_STORE on ${c.name}`, () =>
      withDataDir(async (dataDir) => {
        await createDevCa({ trustDomain: td, clock, dataDir });
        await c.corrupt(dataDir);
        await assert.rejects(
          createDevCa({ trustDomain: td, clock, dataDir }),
          rejectsWith('SPIFFE_CA_KEY_STORE'),
        );
      }));
  }

  it('fails with SPIFFE_CA_KEY_STORE when the stored CA belongs to another trust domain', () =>
    withDataDir(async (dataDir) => {
      await createDevCa({ trustDomain: td, clock, dataDir });
      const other = TrustDomain.parse('other.org');
      await assert.rejects(
        createDevCa({ trustDomain: other, clock, dataDir }),
        rejectsWith('SPIFFE_CA_KEY_STORE'),
      );
    }));

  it('fails with SPIFFE_CA_KEY_STORE when the data directory cannot be written', () =>
    withDataDir(async (dataDir) => {
      const blocker = join(dataDir, 'file');
      await writeFile(blocker, '');
      await assert.rejects(
        createDevCa({ trustDomain: td, clock, dataDir: blocker }),
        rejectsWith('SPIFFE_CA_KEY_STORE'),
      );
    }));
});
