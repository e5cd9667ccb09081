import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openWithKek, parseKeyEncryptionKey, sealWithKek } from '../../../adapters/jwt/sealed-keys.js';
import { BrokerError } from '../../../broker/errors.js';

const KEK = randomBytes(32);
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof BrokerError ? err.code : 'not-a-broker-error';
  }
  return 'ok';
};

describe('key-encryption key parsing (32 bytes, raw, hex or base64)', () => {
  const cases: readonly [string, Buffer, string][] = [
    ['32 raw bytes', KEK, 'ok'],
    ['64 hex digits', Buffer.from(KEK.toString('hex')), 'ok'],
    ['base64 with a trailing newline', Buffer.from(`${KEK.toString('base64')}\n`), 'ok'],
    ['16 bytes of base64', Buffer.from(randomBytes(16).toString('base64')), 'BROKER_CONFIG_INVALID'],
    ['an empty file', Buffer.alloc(0), 'BROKER_CONFIG_INVALID'],
    ['33 raw bytes', randomBytes(33), 'BROKER_CONFIG_INVALID'],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: ${expected}`, () =>
      assert.equal(
        code(() => parseKeyEncryptionKey(input)),
        expected,
      ));
  }

  it('every accepted form yields the same key', () => {
    assert.deepEqual(parseKeyEncryptionKey(Buffer.from(KEK.toString('hex'))), KEK);
    assert.deepEqual(parseKeyEncryptionKey(Buffer.from(KEK.toString('base64'))), KEK);
  });
});

describe('sealing the signing keys with AES-256-GCM', () => {
  it('opens what it sealed, and never shows the plaintext in the sealed form', () => {
    const sealed = sealWithKek(KEK, '{"private":"d-value-123"}');
    assert.equal(openWithKek(KEK, sealed), '{"private":"d-value-123"}');
    assert.ok(!sealed.includes('d-value-123'));
    assert.notEqual(sealWithKek(KEK, 'same'), sealWithKek(KEK, 'same'), 'a fresh IV each time');
  });

  const sealed = sealWithKek(KEK, 'keys');
  const parts = sealed.split('.');
  const flip = (i: number): string => {
    const p = [...parts];
    const bytes = Buffer.from(p[i]!, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    p[i] = bytes.toString('base64url');
    return p.join('.');
  };
  const refusals: readonly [string, Buffer, string][] = [
    ['another key-encryption key', randomBytes(32), sealed],
    ['an altered IV', KEK, flip(1)],
    ['an altered ciphertext', KEK, flip(2)],
    ['an altered tag', KEK, flip(3)],
    ['an unknown version', KEK, ['v2', ...parts.slice(1)].join('.')],
    ['a missing part', KEK, parts.slice(0, 3).join('.')],
    ['plain JSON', KEK, '{"version":1,"keys":[]}'],
  ].map(([name, kek, value]) => [name as string, kek as Buffer, value as string]);
  for (const [name, kek, value] of refusals) {
    it(`refuses ${name}: BROKER_ADAPTER_KEY_STORE`, () =>
      assert.equal(
        code(() => openWithKek(kek, value)),
        'BROKER_ADAPTER_KEY_STORE',
      ));
  }
});
