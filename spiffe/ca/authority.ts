import type { webcrypto } from 'node:crypto';
import { SpiffeError } from '../errors.js';
import { x509 } from '../internal/x509.js';
import type { TrustDomain } from '../trust-domain.js';
import type { CaKeyStore, X509Authority } from './key-store.js';
import { createCaCertificate, generateX509KeyPair, toSigningKey } from './x509-templates.js';

/** An {@link X509Authority} with its key imported for signing certificates. */
export interface SigningAuthority extends X509Authority {
  readonly signingKey: webcrypto.CryptoKey;
}

/** True when the CA certificate names `trustDomain` as its URI SAN (X509-SVID spec §4.1 for CAs). */
function certifiesTrustDomain(authority: X509Authority, trustDomain: TrustDomain): boolean {
  const san = authority.certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
  return uris.length === 1 && uris[0] === trustDomain.idString;
}

async function withSigningKey(authority: X509Authority): Promise<SigningAuthority> {
  return Object.freeze({ ...authority, signingKey: await toSigningKey(authority.privateKey) });
}

/**
 * Creates a new EC P-256 CA key and self-signed certificate valid from `now` for `ttlSeconds`,
 * persists them, and returns them ready to sign.
 *
 * @throws {SpiffeError} `SPIFFE_CA_KEY_STORE` when they cannot be persisted.
 */
export async function renewAuthority(
  store: CaKeyStore,
  trustDomain: TrustDomain,
  now: Date,
  ttlSeconds: number,
): Promise<SigningAuthority> {
  const keys = await generateX509KeyPair('ec-p256');
  const certificate = await createCaCertificate({ trustDomain, keys, now, ttlSeconds });
  const authority = { privateKey: keys.privateKey, certificate };
  await store.saveX509Authority(authority);
  return withSigningKey(authority);
}

/**
 * Loads the stored CA of `trustDomain`, or creates one on first use or once the stored certificate has
 * expired at `now`.
 *
 * @throws {SpiffeError} `SPIFFE_CA_KEY_STORE` when the stored CA is corrupt or certifies another trust
 *   domain (it is never silently replaced).
 */
export async function loadOrCreateAuthority(
  store: CaKeyStore,
  trustDomain: TrustDomain,
  now: Date,
  ttlSeconds: number,
): Promise<SigningAuthority> {
  const stored = await store.loadX509Authority();
  if (stored === undefined) return renewAuthority(store, trustDomain, now, ttlSeconds);
  if (!certifiesTrustDomain(stored, trustDomain)) {
    throw new SpiffeError(
      'SPIFFE_CA_KEY_STORE',
      `stored ca does not certify trust domain ${trustDomain.name}`,
    );
  }
  if (now.getTime() >= stored.certificate.notAfter.getTime()) {
    return renewAuthority(store, trustDomain, now, ttlSeconds);
  }
  return withSigningKey(stored);
}
