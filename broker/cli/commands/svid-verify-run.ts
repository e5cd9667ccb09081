/**
 * The work of `taskpass svid verify` (see `svid-verify.ts`), in its own module so that the X.509 and
 * JOSE libraries load only when an SVID is verified, not with every `taskpass` invocation.
 *
 * @packageDocumentation
 */
import { decodeJwt } from 'jose';
import { parseBundleDocument } from '../../../spiffe/bundle-json.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { verifyJwtSvid } from '../../../spiffe/jwt-svid.js';
import { parseCertificates } from '../../../spiffe/pem.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { checkLeafRules, verifyX509Svid } from '../../../spiffe/x509-svid.js';
import { BrokerError } from '../../errors.js';
import { readCliFile } from '../files.js';
import type { CommandContext } from '../program.js';

export interface VerifyFlags {
  bundle: string[];
  x509?: string;
  jwt?: string;
  audience?: string[];
  now?: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const TD_PREFIX = /^([a-z0-9._-]+)=(.+)$/;

/**
 * Verifies the SVID the flags name against their bundles and prints `{spiffe_id, expires_at}`.
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE`, `BROKER_CLI_FILE_UNREADABLE`; {@link SpiffeError} with
 *   the reason the SVID is rejected.
 */
export async function runSvidVerify(flags: VerifyFlags, ctx: CommandContext): Promise<void> {
  if ((flags.x509 === undefined) === (flags.jwt === undefined)) {
    throw new BrokerError('BROKER_CLI_USAGE', 'give exactly one of --x509 or --jwt');
  }
  const now = parseNow(flags.now) ?? ctx.clock.now();
  if (flags.x509 !== undefined) {
    const chain = parseCertificates(await readCliFile(flags.x509));
    // The leaf's own trust domain owns the unprefixed bundles; a leaf that breaks the
    // X509-SVID rules is rejected here with the same code the verifier would give.
    const bundles = await loadBundles(flags.bundle, checkLeafRules(chain[0]!).trustDomain);
    const verified = await verifyX509Svid(chain, bundles, { now });
    ctx.result({ spiffe_id: verified.id.toString(), expires_at: verified.expiresAt.toISOString() });
    return;
  }
  if (!flags.audience?.length) throw new BrokerError('BROKER_CLI_USAGE', '--jwt needs --audience');
  const token = await readToken(flags.jwt!);
  const bundles = await loadBundles(flags.bundle, subjectTrustDomain(token));
  const verified = await verifyJwtSvid(token, bundles, { now, audience: flags.audience });
  ctx.result({
    spiffe_id: verified.id.toString(),
    expires_at: verified.expiresAt.toISOString(),
    audience: verified.audience,
  });
}

function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,12}$/.test(text)) throw new BrokerError('BROKER_CLI_USAGE', '--now takes unix seconds');
  return new Date(Number(text) * 1000);
}

async function readToken(arg: string): Promise<string> {
  if (COMPACT_JWS.test(arg)) return arg;
  return (await readCliFile(arg)).toString('utf8').trim();
}

/** The trust domain of the token's `sub`, read without verification only to pick its bundle. */
function subjectTrustDomain(token: string): TrustDomain | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return sub === undefined ? undefined : SpiffeId.parse(sub).trustDomain;
  } catch {
    // The verifier reports the precise reason (malformed token, missing or bad sub).
    return undefined;
  }
}

async function loadBundles(args: readonly string[], own: TrustDomain | undefined): Promise<BundleSet> {
  const set = new BundleSet();
  for (const arg of args) {
    const prefixed = TD_PREFIX.exec(arg);
    // Every named file must be readable, even one whose trust domain the SVID never reaches.
    const data = await readCliFile(prefixed ? prefixed[2]! : arg);
    const trustDomain = prefixed ? TrustDomain.parse(prefixed[1]!) : own;
    // An unprefixed bundle belongs to the SVID's own trust domain; when the SVID names none, the
    // verifier rejects it with the precise reason and no bundle is needed.
    if (trustDomain !== undefined) set.add(parseBundleDocument(trustDomain, data));
  }
  return set;
}
