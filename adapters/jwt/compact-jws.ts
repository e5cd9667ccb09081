import { constants, sign, type KeyObject } from 'node:crypto';
import type { TaskTokenAlgorithm } from './config.js';

/** The protected header of a task token (RFC 7515 §4.1). */
export interface CompactJwsHeader {
  readonly alg: TaskTokenAlgorithm;
  readonly kid: string;
  readonly typ: string;
}

/** How each algorithm of RFC 7518 §3.1 signs with node:crypto. */
const SIGNERS: Readonly<Record<TaskTokenAlgorithm, (data: Buffer, key: KeyObject) => Buffer>> = {
  // RFC 7518 §3.4: the signature is R || S, each 32 bytes (IEEE P1363), not DER.
  ES256: (data, key) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
  RS256: (data, key) => sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }),
  // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
  PS256: (data, key) =>
    sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
};

/**
 * Signs `claims` as a JWS Compact Serialization (RFC 7515 §7.1) with node:crypto's one-shot `sign`.
 *
 * Why not jose's `SignJWT`: it signs through WebCrypto, whose every call is a queued job costing
 * several times the signature itself; on the issuance path that was the largest single CPU cost
 * (ISSUE 3, Speed). Signing is the easy half of JWS (no algorithm choice from input, no parsing):
 * the algorithm comes from the broker's own key, the header and claims are our own JSON. Every
 * token is still VERIFIED with jose (introspection, the verifier, the tests).
 */
export function signCompactJws(
  header: CompactJwsHeader,
  claims: Readonly<Record<string, unknown>>,
  key: KeyObject,
): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = SIGNERS[header.alg](Buffer.from(signingInput, 'ascii'), key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
