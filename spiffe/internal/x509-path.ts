// Certification path building and RFC 5280 §6 validation for X509-SVIDs, on pkijs.
//
// The path is built here (bounded, cycle-free, signature-checked) and then handed to pkijs's
// CertificateChainValidationEngine, whose `findIssuer` is pinned to that path. Building it ourselves keeps
// an attacker-supplied chain from sending pkijs's unbounded recursive search around a loop, and lets
// signatures be checked with node:crypto on cached public keys (the hot path of verification).
import { verify as cryptoVerify, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { SpiffeError } from '../errors.js';
import type { Certificate, SpiffeBundle } from '../bundle.js';
import { parsedOf, publicKeyOf, type ParsedCert } from './x509-parsed.js';

/** A certificate of a chain: the caller's object and its shared parsed form. */
export interface PathCert {
  readonly cert: Certificate;
  readonly parsed: ParsedCert;
}

// Passed explicitly to every pkijs call rather than installed with the global `setEngine`, so that this
// module leaves pkijs's process-wide state alone.
const PKI_CRYPTO = new pkijs.CryptoEngine({
  name: 'node-webcrypto',
  crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
});

/** Upper bound on the certificates accepted in a presented chain. */
export const MAX_CHAIN_LENGTH = 16;
// Bounds the work of path building whatever the chain holds (same-named certificates make it branch).
const MAX_SIGNATURE_CHECKS = 32;

// Signature algorithms verified directly with node:crypto (RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3).
// Anything else (RSASSA-PSS with its parameters, …) falls back to pkijs's WebCrypto engine.
const FAST_SIGNATURE_ALGS: ReadonlyMap<string, { hash: string | null; keyType: string }> = new Map([
  ['1.2.840.10045.4.3.2', { hash: 'sha256', keyType: 'ec' }],
  ['1.2.840.10045.4.3.3', { hash: 'sha384', keyType: 'ec' }],
  ['1.2.840.10045.4.3.4', { hash: 'sha512', keyType: 'ec' }],
  ['1.2.840.113549.1.1.11', { hash: 'sha256', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.12', { hash: 'sha384', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.13', { hash: 'sha512', keyType: 'rsa' }],
  ['1.3.101.112', { hash: null, keyType: 'ed25519' }],
]);

const anchorSets = new WeakMap<SpiffeBundle, readonly PathCert[]>();

/** The trust anchors of `bundle` (its X.509 authorities), parsed once per bundle object. */
export function anchorsOf(bundle: SpiffeBundle): readonly PathCert[] {
  let anchors = anchorSets.get(bundle);
  if (anchors === undefined) {
    anchors = Object.freeze(bundle.x509Authorities.map((cert) => ({ cert, parsed: parsedOf(cert) })));
    anchorSets.set(bundle, anchors);
  }
  return anchors;
}

/** True when `issuer`'s key verifies `child`'s signature (RFC 5280 §6.1.3 (a)(1)). */
async function signedBy(child: ParsedCert, issuer: ParsedCert): Promise<boolean> {
  const { pki } = child;
  // RFC 5280 §4.1.1.2: the outer signatureAlgorithm must equal the signature field inside the TBS.
  if (!pki.signatureAlgorithm.isEqual(pki.signature)) return false;
  const alg = FAST_SIGNATURE_ALGS.get(pki.signatureAlgorithm.algorithmId);
  try {
    if (alg === undefined) return await pki.verify(issuer.pki, PKI_CRYPTO);
    const key = publicKeyOf(issuer);
    // The key type must match the algorithm the certificate names, or node would happily run another one.
    if (key === null || key.asymmetricKeyType !== alg.keyType) return false;
    return cryptoVerify(alg.hash, pki.tbsView, key, pki.signatureValue.valueBlock.valueHexView);
  } catch {
    return false;
  }
}

interface SearchState {
  readonly pool: readonly PathCert[];
  readonly anchors: readonly PathCert[];
  readonly now: Date;
  signatureBudget: number;
}

function issuerCandidates(tip: PathCert, certs: readonly PathCert[], now: Date): PathCert[] {
  const named = certs.filter(
    (c) => c.parsed.pki.subject.isEqual(tip.parsed.pki.issuer) && !c.parsed.der.equals(tip.parsed.der),
  );
  // Prefer candidates valid at `now`, so a rotated-out authority with the same name does not shadow the new one.
  const current = (c: PathCert): number => (c.parsed.notBefore <= now && now <= c.parsed.notAfter ? 0 : 1);
  return named.sort((a, b) => current(a) - current(b));
}

async function link(child: PathCert, issuer: PathCert, state: SearchState): Promise<boolean> {
  if (state.signatureBudget <= 0) return false;
  state.signatureBudget--;
  return signedBy(child.parsed, issuer.parsed);
}

async function extend(path: readonly PathCert[], state: SearchState): Promise<PathCert[] | undefined> {
  const tip = path[path.length - 1] as PathCert;
  for (const anchor of issuerCandidates(tip, state.anchors, state.now)) {
    if (await link(tip, anchor, state)) return [...path, anchor];
  }
  if (path.length >= MAX_CHAIN_LENGTH) return undefined;
  for (const next of issuerCandidates(tip, state.pool, state.now)) {
    if (path.some((c) => c.parsed.der.equals(next.parsed.der))) continue; // no loops
    if (!(await link(tip, next, state))) continue;
    const found = await extend([...path, next], state);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Builds a certification path from `leaf` through certificates of `pool` (any order) to one of
 * `anchors`, checking each signature. Returns leaf→anchor, or `undefined` when there is none.
 *
 * Checks names and signatures only; the caller applies the SPIFFE rules and {@link validatePath}.
 */
export async function buildPath(
  leaf: PathCert,
  pool: readonly PathCert[],
  anchors: readonly PathCert[],
  now: Date,
): Promise<PathCert[] | undefined> {
  return extend([leaf], { pool, anchors, now, signatureBudget: MAX_SIGNATURE_CHECKS });
}

/**
 * Runs pkijs's RFC 5280 §6 validation over a path from {@link buildPath}: validity at `now`, name
 * chaining, basic constraints and key usage of the CAs, certificate policies and name constraints.
 *
 * @throws {SpiffeError} `SPIFFE_X509_UNTRUSTED` with pkijs's result as `cause` when it rejects the path.
 */
export async function validatePath(path: readonly PathCert[], now: Date): Promise<void> {
  const pkis = path.map((c) => c.parsed.pki);
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: pkis.slice(-1),
    // pkijs takes the last certificate of `certs` as the end entity.
    certs: pkis.slice(0, -1).reverse(),
    checkDate: now,
    // Pinned to the path already built and signature-checked above.
    findIssuer: async (cert) => {
      const issuer = pkis[pkis.indexOf(cert) + 1];
      return issuer === undefined || !pkis.includes(cert) ? [] : [issuer];
    },
  });
  const result = await engine.verify({ passedWhenNotRevValues: true }, PKI_CRYPTO);
  if (!result.result) {
    throw new SpiffeError('SPIFFE_X509_UNTRUSTED', `rfc 5280 path validation failed (${result.resultCode})`, {
      cause: result,
    });
  }
}
