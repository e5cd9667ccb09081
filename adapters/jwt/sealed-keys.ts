import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';

/** Binds a sealed blob to its purpose, so it cannot be replayed as some other sealed value. */
const AAD = Buffer.from('taskpass task-token signing keys v1', 'utf8');
const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A key-encryption key: 32 bytes, given as raw bytes or as base64 / hex text (as read from the file
 * named by `TASKPASS_KEY_ENCRYPTION_KEY_FILE`).
 *
 * @throws {BrokerError} `BROKER_CONFIG_INVALID` for anything that is not exactly 32 bytes.
 */
export function parseKeyEncryptionKey(contents: Buffer): Buffer {
  if (contents.length === KEK_BYTES) return Buffer.from(contents);
  const text = contents.toString('utf8').trim();
  const decoded = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (decoded.length !== KEK_BYTES) {
    throw new BrokerError(
      'BROKER_CONFIG_INVALID',
      'key encryption key must be 32 bytes (raw, 64 hex digits or base64)',
    );
  }
  return decoded;
}

/** Seals `plaintext` with AES-256-GCM under `kek`: `v1.<iv>.<ciphertext>.<tag>`, base64url parts. */
export function sealWithKek(kek: Buffer, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/**
 * Opens a value sealed by {@link sealWithKek}.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE` when it was sealed under another key, was altered,
 *   or has an unknown shape (GCM authenticates, so a wrong KEK never yields garbage keys).
 */
export function openWithKek(kek: Buffer, sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') {
    throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'sealed signing keys have an unknown format');
  }
  const [iv, body, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
  if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES) {
    throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'sealed signing keys have an unknown format');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, iv!, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new BrokerError(
      'BROKER_ADAPTER_KEY_STORE',
      'sealed signing keys do not open with this key encryption key',
      { cause: err },
    );
  }
}
