import { SpiffeError } from '../../spiffe/errors.js';
import { matchMemberOf, matchPathPrefix, parseGlob, type Matcher } from '../../spiffe/matcher.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { RevocationSelector } from '../api/ports.js';
import { BrokerError } from '../errors.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import type { TaskSelection } from '../store/revocation-store.js';

/** A validated selector: what the store selects, whether it is broad, and its ledger description. */
export interface CompiledSelector {
  readonly selection: TaskSelection;
  /**
   * True when the selector names no workload below a trust domain: empty, a trust domain, a provider
   * or a time alone, a prefix that is a trust domain's root, or a glob without a literal segment
   * (`spiffe://td/**`, `spiffe://td/*`). Such a revocation needs `confirm`.
   */
  readonly broad: boolean;
  readonly target: JsonObject;
}

/** One identity constraint: its matcher, a literal string prefix of every ID it accepts, and breadth. */
interface IdentityPart {
  readonly matcher: Matcher;
  readonly prefix: string;
  readonly narrow: boolean;
}

function invalid(field: string, err: unknown): BrokerError {
  const code = err instanceof SpiffeError || err instanceof BrokerError ? err.code : 'invalid';
  return new BrokerError('BROKER_INPUT_INVALID', `${field}: ${code}`, { cause: err });
}

function prefixPart(text: string): IdentityPart {
  let id: SpiffeId;
  try {
    // `spiffe://td/agents/` reads as "under agents", which segment-wise matching already means.
    id = SpiffeId.parse(text.endsWith('/') ? text.slice(0, -1) : text);
  } catch (err) {
    throw invalid('spiffe_id_prefix', err);
  }
  // Segment-wise (`spiffe://td/a` accepts `…/a/b`, not `…/ab`); the string prefix only prefilters.
  return { matcher: matchPathPrefix(id), prefix: id.toString(), narrow: id.path !== '' };
}

function globPart(pattern: string): IdentityPart {
  let matcher: Matcher;
  try {
    matcher = parseGlob(pattern);
  } catch (err) {
    throw invalid('spiffe_id_glob', err);
  }
  // The pattern parsed, so it is `spiffe://<td>` then `/segment`s; the literal segments before the
  // first wildcard are a string prefix of every match (`spiffe://td/a/**` matches `spiffe://td/a`).
  const pathAt = pattern.indexOf('/', 'spiffe://'.length);
  const segments = pathAt === -1 ? [] : pattern.slice(pathAt + 1).split('/');
  const wildcard = (s: string) => s === '*' || s === '**';
  const firstWild = segments.findIndex(wildcard);
  const literal = firstWild === -1 ? segments : segments.slice(0, firstWild);
  const root = pathAt === -1 ? pattern : pattern.slice(0, pathAt);
  return {
    matcher,
    prefix: [root, ...literal].join('/'),
    narrow: segments.some((s) => !wildcard(s)),
  };
}

function trustDomainPart(name: string): IdentityPart {
  let td: TrustDomain;
  try {
    td = TrustDomain.parse(name);
  } catch (err) {
    throw invalid('trust_domain', err);
  }
  return { matcher: matchMemberOf(td), prefix: `spiffe://${td.name}`, narrow: false };
}

/**
 * Validates a revocation selector (ISSUE 4, "Revoke anything") into a store selection. Every member
 * given must hold: the identity members become matchers from `spiffe/matcher.ts` (prefix segment-wise,
 * glob `*`/`**`, trust domain membership), prefiltered in SQL by the longest literal prefix they share.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` naming the member that does not parse.
 */
export function compileSelector(selector: RevocationSelector): CompiledSelector {
  const parts: IdentityPart[] = [];
  if (selector.spiffeIdPrefix !== undefined) parts.push(prefixPart(selector.spiffeIdPrefix));
  if (selector.spiffeIdGlob !== undefined) parts.push(globPart(selector.spiffeIdGlob));
  if (selector.trustDomain !== undefined) parts.push(trustDomainPart(selector.trustDomain));
  if (selector.startedBefore !== undefined && Number.isNaN(selector.startedBefore.getTime())) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'started_before');
  }
  if (selector.provider !== undefined && selector.provider === '') {
    throw new BrokerError('BROKER_INPUT_INVALID', 'provider');
  }
  // Every accepted ID starts with every part's prefix, so the longest one filters best.
  const prefix = parts.map((p) => p.prefix).sort((a, b) => b.length - a.length)[0];
  const selection: TaskSelection = {
    ...(prefix !== undefined && { workloadPrefix: prefix }),
    ...(parts.length > 0 && { accept: (id: SpiffeId) => parts.every((p) => p.matcher.match(id).ok) }),
    ...(selector.provider !== undefined && { provider: selector.provider }),
    ...(selector.startedBefore !== undefined && { startedBefore: selector.startedBefore }),
  };
  const target: JsonObject = {
    selector: {
      ...(selector.spiffeIdPrefix !== undefined && { spiffe_id_prefix: selector.spiffeIdPrefix }),
      ...(selector.spiffeIdGlob !== undefined && { spiffe_id_glob: selector.spiffeIdGlob }),
      ...(selector.trustDomain !== undefined && { trust_domain: selector.trustDomain }),
      ...(selector.provider !== undefined && { provider: selector.provider }),
      ...(selector.startedBefore !== undefined && { started_before: selector.startedBefore.toISOString() }),
    },
  };
  return { selection, broad: !parts.some((p) => p.narrow), target };
}
