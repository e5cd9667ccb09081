import { SpiffeError } from './errors.js';
import { SpiffeId } from './spiffe-id.js';
import type { BundleSource, Certificate } from './bundle.js';
import { x509 } from './internal/x509.js';
import { parseCertificates, parseDerCertificate } from './pem.js';
import { anchorsOf, buildPath, MAX_CHAIN_LENGTH, validatePath, type PathCert } from './internal/x509-path.js';
import { parseCacheOf, parsedOf, type CertFacts } from './internal/x509-parsed.js';

const KEY_USAGE = x509.KeyUsageFlags;

/** X509-SVID §2, §3.1, §4.1, §4.3 and §5.2 on the facts of a leaf: see {@link checkLeafRules}. */
function leafRules(facts: CertFacts): SpiffeId {
  if (facts.uris.length === 0) throw new SpiffeError('SPIFFE_X509_NO_URI_SAN');
  if (facts.uris.length > 1) throw new SpiffeError('SPIFFE_X509_MULTIPLE_URI_SANS');
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(facts.uris[0] as string);
  } catch (err) {
    throw new SpiffeError('SPIFFE_X509_BAD_SPIFFE_ID', undefined, { cause: err });
  }
  // §3.1 and §5.2: a leaf identifies a workload, never a whole trust domain.
  if (id.path === '') throw new SpiffeError('SPIFFE_X509_BAD_SPIFFE_ID', 'leaf spiffe id must have a path');
  if (facts.isCa) throw new SpiffeError('SPIFFE_X509_LEAF_IS_CA');
  const usage = facts.keyUsage ?? 0;
  if (usage & KEY_USAGE.keyCertSign) throw new SpiffeError('SPIFFE_X509_LEAF_KEY_CERT_SIGN');
  if (usage & KEY_USAGE.cRLSign) throw new SpiffeError('SPIFFE_X509_LEAF_CRL_SIGN');
  if (!(usage & KEY_USAGE.digitalSignature)) throw new SpiffeError('SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE');
  return id;
}

/**
 * Applies the X509-SVID leaf rules to `leaf` and returns its SPIFFE ID.
 *
 * Enforces X509-SVID spec §2 (exactly one URI SAN, holding a valid SPIFFE ID), §3.1 and §5.2 (the ID has
 * a path), §4.1 (basicConstraints `cA` false or absent) and §4.3 (keyUsage has digitalSignature and
 * neither keyCertSign nor cRLSign; a leaf without keyUsage lacks digitalSignature). The criticality of
 * keyUsage is not checked, as go-spiffe does not. Checks no signature and no validity window:
 * {@link verifyX509Svid} does that.
 *
 * @throws {SpiffeError} `SPIFFE_X509_NO_URI_SAN`, `SPIFFE_X509_MULTIPLE_URI_SANS`,
 * `SPIFFE_X509_BAD_SPIFFE_ID` (the ID error as `cause`), `SPIFFE_X509_LEAF_IS_CA`,
 * `SPIFFE_X509_LEAF_KEY_CERT_SIGN`, `SPIFFE_X509_LEAF_CRL_SIGN`, `SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE`,
 * or `SPIFFE_X509_MALFORMED` when the certificate or one of those extensions cannot be decoded.
 */
export function checkLeafRules(leaf: Certificate): SpiffeId {
  return leafRules(parsedOf(leaf).facts);
}

/** Options of {@link verifyX509Svid}. */
export interface VerifyX509SvidOptions {
  /** The time at which every certificate of the path must be valid. */
  readonly now: Date;
}

/** An X509-SVID that passed {@link verifyX509Svid}. */
export interface VerifiedX509Svid {
  /** The SPIFFE ID of the leaf's URI SAN. */
  readonly id: SpiffeId;
  /** The earliest notAfter over the verified path: when the proof stops holding. */
  readonly expiresAt: Date;
  readonly leaf: Certificate;
  /** The verified path, leaf first, ending at an X.509 authority of the ID's trust domain. */
  readonly verifiedChain: Certificate[];
}

/**
 * Verifies an X509-SVID chain (X509-SVID spec §5) against the bundle of the leaf's own trust domain and
 * returns the verified identity. Imitates go-spiffe's `x509svid.Verify`.
 *
 * In order: the leaf rules ({@link checkLeafRules}); the bundle of the leaf ID's trust domain from
 * `source` (so an authority of another trust domain never vouches for this one); a certification path
 * from the leaf through the other certificates of `chain` (any order; unused ones are ignored) to one of
 * that bundle's X.509 authorities, every signature checked; then on that path: each signing certificate
 * is a CA (§4.1) with keyCertSign (§4.3, an absent keyUsage counts as absent keyCertSign), path length
 * constraints hold (RFC 5280 §4.2.1.9), no certificate carries an unrecognized critical extension, every
 * certificate is within its validity window at `opts.now`, inclusive; finally RFC 5280 §6 path
 * validation by pkijs (policies, name constraints).
 *
 * @throws {SpiffeError} `SPIFFE_X509_EMPTY_CHAIN`, `SPIFFE_X509_MALFORMED`, any code of
 * {@link checkLeafRules}, `SPIFFE_BUNDLE_NOT_FOUND` (from `source`), `SPIFFE_X509_UNTRUSTED` (no path or
 * a bad signature or a path rejected by RFC 5280 processing), `SPIFFE_X509_SIGNER_NOT_CA`,
 * `SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN`, `SPIFFE_X509_EXPIRED`, `SPIFFE_X509_NOT_YET_VALID`.
 */
export async function verifyX509Svid(
  chain: readonly Certificate[],
  source: BundleSource,
  opts: VerifyX509SvidOptions,
): Promise<VerifiedX509Svid> {
  const [leaf, ...rest] = chain;
  if (leaf === undefined) throw new SpiffeError('SPIFFE_X509_EMPTY_CHAIN');
  if (chain.length > MAX_CHAIN_LENGTH) throw new SpiffeError('SPIFFE_X509_MALFORMED', 'chain is too long');
  const cache = parseCacheOf(source);
  const toPathCert = (cert: Certificate): PathCert => ({ cert, parsed: parsedOf(cert, cache) });
  const leafCert = toPathCert(leaf);
  const id = leafRules(leafCert.parsed.facts);
  const bundle = source.getBundleForTrustDomain(id.trustDomain);
  const path = await buildPath(leafCert, rest.map(toPathCert), anchorsOf(bundle), opts.now);
  if (path === undefined) throw new SpiffeError('SPIFFE_X509_UNTRUSTED');
  checkSigners(path);
  checkCriticalExtensions(path);
  checkValidity(path, opts.now);
  await validatePath(path, opts.now);
  const verifiedChain = path.map((c) => c.cert);
  const expiresAt = new Date(Math.min(...path.map((c) => c.parsed.notAfter.getTime())));
  return { id, expiresAt, leaf, verifiedChain };
}

/**
 * Parses then verifies an X509-SVID chain: PEM text, concatenated DER (the Workload API form), or one
 * DER buffer per certificate (go-spiffe's `ParseAndVerify`).
 *
 * @throws {SpiffeError} as {@link parseCertificates} and {@link verifyX509Svid}.
 */
export async function parseAndVerifyX509Svid(
  pemOrDerChain: string | Uint8Array | readonly Uint8Array[],
  source: BundleSource,
  opts: VerifyX509SvidOptions,
): Promise<VerifiedX509Svid> {
  const chain =
    typeof pemOrDerChain === 'string' || pemOrDerChain instanceof Uint8Array
      ? parseCertificates(pemOrDerChain)
      : pemOrDerChain.map(parseDerCertificate);
  return verifyX509Svid(chain, source, opts);
}

/** X509-SVID §3.2, §4.1, §4.3 and RFC 5280 §4.2.1.9 on every signing certificate of the path. */
function checkSigners(path: readonly PathCert[]): void {
  let intermediatesBelow = 0;
  path.forEach(({ cert, parsed: { facts } }, index) => {
    if (index === 0) return;
    if (!facts.isCa) throw new SpiffeError('SPIFFE_X509_SIGNER_NOT_CA', cert.subject);
    if (!((facts.keyUsage ?? 0) & KEY_USAGE.keyCertSign)) {
      throw new SpiffeError('SPIFFE_X509_SIGNER_NO_KEY_CERT_SIGN', cert.subject);
    }
    if (facts.pathLength !== undefined && intermediatesBelow > facts.pathLength) {
      throw new SpiffeError('SPIFFE_X509_UNTRUSTED', 'path length constraint exceeded');
    }
    // Self-issued certificates do not count towards path length (RFC 5280 §6.1.4 (l)).
    if (!facts.selfIssued) intermediatesBelow++;
  });
}
// Extensions this verifier or pkijs processes (RFC 5280 §4.2.1); any other critical one means reject.
const RECOGNIZED_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.36', // policyConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.54', // inhibitAnyPolicy
]);

/** RFC 5280 §4.2: a certificate with a critical extension the validator does not process is rejected. */
function checkCriticalExtensions(path: readonly PathCert[]): void {
  for (const { parsed } of path) {
    for (const ext of parsed.pki.extensions ?? []) {
      if (ext.critical && !RECOGNIZED_EXTENSIONS.has(ext.extnID)) {
        throw new SpiffeError('SPIFFE_X509_UNTRUSTED', `unrecognized critical extension ${ext.extnID}`);
      }
    }
  }
}

/** RFC 5280 §6.1.3 (a)(2): every certificate of the path is valid at `now`, bounds included. */
function checkValidity(path: readonly PathCert[], now: Date): void {
  for (const { cert, parsed } of path) {
    if (now < parsed.notBefore) throw new SpiffeError('SPIFFE_X509_NOT_YET_VALID', cert.subject);
    if (now > parsed.notAfter) throw new SpiffeError('SPIFFE_X509_EXPIRED', cert.subject);
  }
}
