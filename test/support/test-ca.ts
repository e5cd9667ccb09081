// A test CA that mints X509-SVIDs and JWT-SVIDs at run time, with a knob for every bad case the
// verifiers must reject (go-spiffe's internal/test/ca, in TypeScript). Test-only: no validation here.
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import { x509 } from '../../spiffe/internal/x509.js';
import { bundleNotFound, SpiffeBundle, type BundleSource, type Certificate } from '../../spiffe/bundle.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { X509Svid } from '../../spiffe/svid.js';
export { TestJwtAuthority, type JwtKnobs, type TestJwsAlg } from './test-jwt.js';

const HOUR = 3_600_000;
const KU = x509.KeyUsageFlags;

/** Key types the test CA mints. */
export type TestKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048';

/** A key pair in both forms: WebCrypto for @peculiar/x509, KeyObject for node:tls and node:crypto. */
export interface TestKeys {
  readonly type: TestKeyType;
  readonly crypto: webcrypto.CryptoKeyPair;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Generates a key pair of `type`. */
export async function generateKeys(type: TestKeyType = 'ec-p256'): Promise<TestKeys> {
  const algorithm =
    type === 'rsa-2048'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        }
      : { name: 'ECDSA', namedCurve: type === 'ec-p384' ? 'P-384' : 'P-256' };
  const pair = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  return {
    type,
    crypto: pair,
    privateKey: KeyObject.from(pair.privateKey),
    publicKey: KeyObject.from(pair.publicKey),
  };
}

/** Knobs shared by every certificate. `null` omits an extension altogether. */
export interface CertKnobs {
  readonly keyType?: TestKeyType;
  readonly subject?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** basicConstraints cA; `null` omits the extension. */
  readonly isCa?: boolean | null;
  readonly pathLength?: number;
  /** keyUsage bits (x509.KeyUsageFlags); `null` omits the extension. */
  readonly keyUsage?: number | null;
  /** URI SANs, verbatim: `[]` for none, two for "multiple", `https://…` for a non-SPIFFE one. */
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  /** Appended as-is, e.g. an unknown critical extension. */
  readonly extraExtensions?: readonly x509.Extension[];
}

/** Knobs of a leaf: a SPIFFE ID (put in `uris` unless `uris` is given) and self-signing. */
export interface LeafKnobs extends CertKnobs {
  readonly id?: string;
  /** Sign the leaf with its own key instead of the CA's. */
  readonly selfSigned?: boolean;
}

/** A minted leaf: the certificate, its key and the chain to present (leaf, then intermediates). */
export interface TestLeaf {
  readonly cert: Certificate;
  readonly keys: TestKeys;
  /** Leaf first, then the issuing intermediates up to (not including) the root. */
  readonly chain: Certificate[];
  /** The same as an {@link X509Svid} (its `id` is parsed leniently: only for valid IDs). */
  readonly svid: X509Svid;
}

/** A root or intermediate CA of one trust domain. */
export class TestCa {
  private constructor(
    readonly trustDomain: TrustDomain,
    readonly cert: Certificate,
    readonly keys: TestKeys,
    readonly now: Date,
    readonly parent: TestCa | undefined,
  ) {}

  /** A self-signed root of `trustDomain`, valid from a day before `now` to a year after. */
  static async root(trustDomain: string, knobs: CertKnobs & { now?: Date } = {}): Promise<TestCa> {
    const now = knobs.now ?? new Date();
    const td = TrustDomain.parse(trustDomain);
    const keys = await generateKeys(knobs.keyType);
    const cert = await issue(keys, undefined, caDefaults(td, now, 'root', 365 * 24 * HOUR, knobs));
    return new TestCa(td, cert, keys, now, undefined);
  }

  /** An intermediate signed by this CA, valid from a day before `now` to 30 days after. */
  async intermediate(knobs: CertKnobs = {}): Promise<TestCa> {
    const keys = await generateKeys(knobs.keyType);
    const cert = await issue(
      keys,
      this,
      caDefaults(this.trustDomain, this.now, 'intermediate', 30 * 24 * HOUR, knobs),
    );
    return new TestCa(this.trustDomain, cert, keys, this.now, this);
  }

  /** A leaf X509-SVID valid for an hour either side of `now` (SPIRE's leaf profile by default). */
  async leaf(knobs: LeafKnobs = {}): Promise<TestLeaf> {
    const keys = await generateKeys(knobs.keyType);
    const id = knobs.id ?? `${this.trustDomain.idString}/workload`;
    const full: CertKnobs = {
      subject: `CN=leaf ${randomBytes(4).toString('hex')}, O=SPIFFE`,
      notBefore: new Date(this.now.getTime() - HOUR),
      notAfter: new Date(this.now.getTime() + HOUR),
      isCa: false,
      keyUsage: KU.digitalSignature | KU.keyEncipherment | KU.keyAgreement,
      uris: [id],
      ...knobs,
    };
    const cert = await issue(keys, knobs.selfSigned ? undefined : this, full);
    const chain = [cert, ...this.chainToRoot()];
    const svid: X509Svid = {
      id: tryParseId(id) ?? spiffeIdLiteral(`${this.trustDomain.idString}/unparsable`),
      certificates: chain,
      privateKey: keys.privateKey,
      expiresAt: cert.notAfter,
    };
    return { cert, keys, chain, svid };
  }

  /** This CA and its parents up to, not including, the root (the intermediates a leaf presents). */
  chainToRoot(): Certificate[] {
    return this.parent === undefined ? [] : [this.cert, ...this.parent.chainToRoot()];
  }

  /** The root of this CA's hierarchy. */
  get root(): TestCa {
    return this.parent === undefined ? this : this.parent.root;
  }
}

function caDefaults(td: TrustDomain, now: Date, role: string, lifetime: number, knobs: CertKnobs): CertKnobs {
  return {
    subject: `CN=${td.name} ${role} ${randomBytes(4).toString('hex')}, O=SPIFFE`,
    notBefore: new Date(now.getTime() - 24 * HOUR),
    notAfter: new Date(now.getTime() + lifetime),
    isCa: true,
    keyUsage: KU.keyCertSign | KU.cRLSign,
    uris: [td.idString],
    ...knobs,
  };
}

async function issue(keys: TestKeys, issuer: TestCa | undefined, knobs: CertKnobs): Promise<Certificate> {
  const signer = issuer?.keys ?? keys;
  const extensions: x509.Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(keys.crypto.publicKey),
  ];
  if (issuer !== undefined)
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.crypto.publicKey));
  if (knobs.isCa !== null && knobs.isCa !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(knobs.isCa, knobs.pathLength, true));
  }
  if (knobs.keyUsage !== null && knobs.keyUsage !== undefined) {
    extensions.push(new x509.KeyUsagesExtension(knobs.keyUsage, true));
  }
  const names = [
    ...(knobs.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(knobs.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, !knobs.subject));
  if (knobs.isCa === false) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  extensions.push(...(knobs.extraExtensions ?? []));
  return x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: knobs.subject,
    issuer: issuer?.cert.subject ?? knobs.subject,
    notBefore: knobs.notBefore,
    notAfter: knobs.notAfter,
    publicKey: keys.crypto.publicKey,
    signingKey: signer.crypto.privateKey,
    signingAlgorithm: signingAlgorithm(signer.type),
    extensions,
  });
}

function signingAlgorithm(type: TestKeyType): { name: string; hash: string } {
  if (type === 'rsa-2048') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return { name: 'ECDSA', hash: type === 'ec-p384' ? 'SHA-384' : 'SHA-256' };
}

function tryParseId(id: string): SpiffeId | undefined {
  try {
    return SpiffeId.parse(id);
  } catch {
    return undefined;
  }
}

/** Parses a SPIFFE ID literal, throwing a plain Error on a bad one (tests only, as go-spiffe's RequireFromString). */
export function spiffeIdLiteral(s: string): SpiffeId {
  const id = tryParseId(s);
  if (id === undefined) throw new Error(`bad spiffe id literal ${JSON.stringify(s)}`);
  return id;
}

/** A bundle of `trustDomain` with the given X.509 roots and JWT authorities. */
export function testBundle(
  trustDomain: string,
  parts: { roots?: readonly Certificate[]; jwt?: readonly { kid: string; jwk: JWK }[] } = {},
): SpiffeBundle {
  return new SpiffeBundle({
    trustDomain: TrustDomain.parse(trustDomain),
    x509Authorities: parts.roots ?? [],
    jwtAuthorities: new Map((parts.jwt ?? []).map((a) => [a.kid, a.jwk])),
  });
}

/** A static {@link BundleSource} over `bundles` (one per trust domain). */
export function staticSource(...bundles: SpiffeBundle[]): BundleSource {
  const byName = new Map(bundles.map((b) => [b.trustDomain.name, b]));
  return {
    getBundleForTrustDomain(td: TrustDomain): SpiffeBundle {
      return byName.get(td.name) ?? bundleNotFound(td);
    },
  };
}
