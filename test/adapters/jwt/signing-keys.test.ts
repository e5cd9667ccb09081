import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerError } from '../../../broker/errors.js';
import {
  createFileTaskTokenKeyStore,
  createMemoryTaskTokenKeyStore,
  type TaskTokenKeyStore,
} from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { verifyTaskToken } from '../../../adapters/jwt/verify-task-token.js';
import { ISSUER, T0, jwtSetup, minutes } from './support.js';

const HOUR = 3600;
const kids = (keyring: TaskTokenKeyring, now: Date) => keyring.jwks(now).keys.map((k) => k.kid);
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'taskpass-keys-'));
  dirs.push(dir);
  return dir;
}

describe('task token keyring: rotation', () => {
  it('keeps the previous key in the JWKS until the overlap passes, then drops it', async () => {
    const { keyring } = await jwtSetup({ rotationIntervalSeconds: HOUR, overlapSeconds: 30 * 60 });
    const [first] = kids(keyring, T0);
    assert.equal(kids(keyring, minutes(T0, 59)).length, 1);
    const second = (await keyring.signingKey('ES256', minutes(T0, 60))).kid;
    assert.notEqual(second, first);
    assert.deepEqual(kids(keyring, minutes(T0, 60)), [second, first]);
    assert.deepEqual(kids(keyring, minutes(T0, 89)), [second, first]);
    assert.deepEqual(kids(keyring, minutes(T0, 90)), [second]);
    assert.equal(await keyring.rotateIfDue(minutes(T0, 90)), true);
    assert.deepEqual(kids(keyring, minutes(T0, 60)), [second], 'the dropped key is forgotten');
  });

  it('keeps tokens in flight verifiable across a rotation, and rejects them once their key is dropped', async () => {
    const { keyring, issue } = await jwtSetup({ rotationIntervalSeconds: HOUR, overlapSeconds: 10 * 60 });
    const token = (await issue(minutes(T0, 59), 600)).secret;
    await keyring.rotateIfDue(minutes(T0, 60));
    const verifyAt = (now: Date, jwksAt = now) =>
      verifyTaskToken(token, { jwks: keyring.jwks(jwksAt), algorithms: ['ES256'], audience: 'crm-api', now });
    assert.equal((await verifyAt(minutes(T0, 68))).ok, true);
    const dropped = await verifyAt(minutes(T0, 68), minutes(T0, 70));
    assert.deepEqual(dropped.ok ? undefined : dropped.code, 'BROKER_TOKEN_UNKNOWN_KID');
  });

  it('rotates once when many issuances find the key due at the same time', async () => {
    const { keyring, issue } = await jwtSetup({ rotationIntervalSeconds: HOUR });
    const later = minutes(T0, 61);
    const issued = await Promise.all(Array.from({ length: 20 }, () => issue(later)));
    assert.equal(new Set(issued.map((i) => i.handle.kid)).size, 1);
    assert.equal(keyring.jwks(later).keys.length, 2);
  });

  it('keeps a current key per algorithm', async () => {
    const { keyring } = await jwtSetup({ algorithms: ['ES256', 'PS256'] });
    const jwks = keyring.jwks(T0);
    assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'PS256']);
    assert.equal((await keyring.signingKey('PS256', T0)).publicJwk.kty, 'RSA');
  });

  it('publishes public members only, with kid, alg and use "sig"', async () => {
    const { keyring } = await jwtSetup({ algorithms: ['ES256', 'RS256'] });
    for (const jwk of keyring.jwks(T0).keys) {
      const expected =
        jwk.kty === 'EC'
          ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']
          : ['alg', 'e', 'kid', 'kty', 'n', 'use'];
      assert.deepEqual(Object.keys(jwk).sort(), expected);
      assert.equal(jwk.use, 'sig');
    }
  });

  it('rejects bad rotation options listing every problem', async () => {
    await assert.rejects(
      TaskTokenKeyring.open({
        store: createMemoryTaskTokenKeyStore(),
        now: T0,
        rotationIntervalSeconds: 0,
        overlapSeconds: 1.5,
        algorithms: [],
      }),
      (err: { code?: string; problems?: readonly string[] }) => {
        assert.equal(err.code, 'BROKER_ADAPTER_BAD_CONFIG');
        assert.equal(err.problems?.length, 3);
        return true;
      },
    );
  });

  it('changes nothing when the store cannot save a rotation', async () => {
    const inner = createMemoryTaskTokenKeyStore();
    let failing = false;
    const store: TaskTokenKeyStore = {
      location: undefined,
      load: () => inner.load(),
      save: async (keys) => {
        if (failing) throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'disk full');
        await inner.save(keys);
      },
    };
    const keyring = await TaskTokenKeyring.open({ store, now: T0, rotationIntervalSeconds: HOUR });
    const before = kids(keyring, T0);
    failing = true;
    await assert.rejects(keyring.signingKey('ES256', minutes(T0, 61)), { code: 'BROKER_ADAPTER_KEY_STORE' });
    assert.deepEqual(kids(keyring, minutes(T0, 61)), before);
    failing = false;
    const rotated = await keyring.signingKey('ES256', minutes(T0, 61));
    assert.ok(!before.includes(rotated.kid));
  });
});

describe('task token keyring: file store', () => {
  it('writes the keys 0600 in a 0700 directory and reloads them across restarts', async () => {
    const dataDir = await tempDir();
    const store = createFileTaskTokenKeyStore(dataDir);
    const opts = { now: T0, rotationIntervalSeconds: HOUR, overlapSeconds: HOUR };
    const first = await TaskTokenKeyring.open({ store, ...opts });
    await first.rotateIfDue(minutes(T0, 60));
    assert.equal((await stat(store.location!)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'task-tokens'))).mode & 0o777, 0o700);
    const reopened = await TaskTokenKeyring.open({
      store: createFileTaskTokenKeyStore(dataDir),
      ...opts,
      now: minutes(T0, 61),
    });
    assert.deepEqual(kids(reopened, minutes(T0, 61)), kids(first, minutes(T0, 61)));
    assert.equal(kids(reopened, minutes(T0, 61)).length, 2);
  });

  it('verifies a token signed before a restart with the reloaded keys', async () => {
    const dataDir = await tempDir();
    const { issue } = await jwtSetup({ store: createFileTaskTokenKeyStore(dataDir) });
    const token = (await issue()).secret;
    const reopened = await TaskTokenKeyring.open({ store: createFileTaskTokenKeyStore(dataDir), now: T0 });
    const result = await verifyTaskToken(token, {
      jwks: reopened.jwks(T0),
      algorithms: ['ES256'],
      audience: 'crm-api',
      issuer: ISSUER,
      now: T0,
    });
    assert.equal(result.ok, true);
  });

  it('leaves no temporary files behind', async () => {
    const dataDir = await tempDir();
    const keyring = await TaskTokenKeyring.open({
      store: createFileTaskTokenKeyStore(dataDir),
      now: T0,
      rotationIntervalSeconds: 60,
    });
    await keyring.rotateIfDue(minutes(T0, 5));
    assert.deepEqual(await readdir(join(dataDir, 'task-tokens')), ['signing-keys.json']);
  });

  const corruptions: [string, (text: string) => string][] = [
    ['not json', () => '{'],
    ['an unknown version', (t) => t.replace('"version": 1', '"version": 2')],
    ['an unsupported alg', (t) => t.replace('"alg": "ES256"', '"alg": "HS256"')],
    ['a kid that does not match its key', (t) => t.replace(/"kid": "[^"]+"/, '"kid": "forged"')],
    ['a private key that is not a key', (t) => t.replace(/"d": "[^"]+"/, '"d": "AAAA"')],
  ];
  for (const [name, corrupt] of corruptions) {
    it(`refuses a stored key file with ${name} instead of replacing it`, async () => {
      const dataDir = await tempDir();
      const store = createFileTaskTokenKeyStore(dataDir);
      await TaskTokenKeyring.open({ store, now: T0 });
      const text = await readFile(store.location!, 'utf8');
      await writeFile(store.location!, corrupt(text));
      await assert.rejects(TaskTokenKeyring.open({ store, now: T0 }), { code: 'BROKER_ADAPTER_KEY_STORE' });
      assert.equal(await readFile(store.location!, 'utf8'), corrupt(text));
    });
  }
});
