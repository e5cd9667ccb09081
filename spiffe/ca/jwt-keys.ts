import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { SpiffeError } from '../errors.js';
import type { SpiffeId } from '../spiffe-id.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** JWT-SVID signing algorithms the development CA uses (a subset of JWT-SVID spec §3.1's list). */
export type JwtAlgorithm = 'ES256' | 'RS256' | 'PS256';

/** The algorithms accepted for {@link JwtAlgorithm}. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = Object.freeze(['ES256', 'RS256', 'PS256']);

/** One JWT signing key of the CA: its key id, algorithm and private key. */
export interface JwtSigningKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  readonly privateKey: KeyObject;
  /** The public JWK with `kid`, as published in the bundle (the marshaller adds `use`). */
  readonly publicJwk: JWK;
}

/** True when `value` names a supported {@link JwtAlgorithm}. */
export function isJwtAlgorithm(value: unknown): value is JwtAlgorithm {
  return typeof value === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * Builds a {@link JwtSigningKey} from a private key; the `kid` is the RFC 7638 thumbprint of the public
 * key, so the same key always has the same id.
 */
export async function toJwtSigningKey(privateKey: KeyObject, alg: JwtAlgorithm): Promise<JwtSigningKey> {
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return Object.freeze({ kid, alg, privateKey, publicJwk: Object.freeze({ ...publicJwk, kid }) });
}

/**
 * Generates a new JWT signing key for `alg` (P-256 for ES256, RSA 2048 for RS256/PS256).
 *
 * @throws {SpiffeError} `SPIFFE_CA_BAD_KEY_TYPE` for an algorithm outside {@link JWT_ALGORITHMS}.
 */
export async function generateJwtSigningKey(alg: string): Promise<JwtSigningKey> {
  if (!isJwtAlgorithm(alg)) throw new SpiffeError('SPIFFE_CA_BAD_KEY_TYPE', JSON.stringify(alg));
  const pair =
    alg === 'ES256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  return toJwtSigningKey(pair.privateKey, alg);
}

/** Restores a signing key from its private JWK as persisted by the key store. */
export async function jwtSigningKeyFromJwk(jwk: JWK, alg: JwtAlgorithm): Promise<JwtSigningKey> {
  return toJwtSigningKey(createPrivateKey({ key: jwk as never, format: 'jwk' }), alg);
}

/** The private JWK of `key`, for persistence only. */
export function privateJwkOf(key: JwtSigningKey): JWK {
  return key.privateKey.export({ format: 'jwk' }) as JWK;
}

/** Claims the CA always sets itself; extra claims cannot replace them. */
const REGISTERED = new Set(['sub', 'aud', 'exp', 'iat']);

/** Parameters of {@link signJwtSvid}. */
export interface SignJwtSvidParams {
  readonly key: JwtSigningKey;
  readonly id: SpiffeId;
  readonly audience: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly extraClaims?: Record<string, unknown>;
}

/**
 * Signs a JWT-SVID: JOSE header `{alg, kid, typ: 'JWT'}` (JWT-SVID spec §2) and claims `sub`, `aud` (an
 * array), `exp`, `iat` (§3), plus `extraClaims`, which never override those four.
 */
export async function signJwtSvid(params: SignJwtSvidParams): Promise<string> {
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params.extraClaims ?? {})) {
    if (!REGISTERED.has(name)) extra[name] = value;
  }
  return new SignJWT(extra)
    .setProtectedHeader({ alg: params.key.alg, kid: params.key.kid, typ: 'JWT' })
    .setSubject(params.id.toString())
    .setAudience([...params.audience])
    .setIssuedAt(params.issuedAt)
    .setExpirationTime(params.expiresAt)
    .sign(params.key.privateKey);
}
