import { SpiffeError, type SpiffeErrorCode } from './errors.js';
import { SpiffeId } from './spiffe-id.js';
import { TrustDomain } from './trust-domain.js';

/** The outcome of a {@link Matcher}: accepted, or rejected with a stable code and a reason. */
export type MatchResult =
  { readonly ok: true } | { readonly ok: false; readonly code: SpiffeErrorCode; readonly reason: string };

/**
 * An authorization rule over SPIFFE IDs (go-spiffe's `spiffeid.Matcher`), as a value.
 *
 * `match` never throws: a rejection says why, with a `SPIFFE_MATCH_*` code, so a policy decision can be
 * explained. `describe` renders the rule itself for explanations and logs.
 */
export interface Matcher {
  match(id: SpiffeId): MatchResult;
  describe(): string;
}

const ACCEPT: MatchResult = Object.freeze({ ok: true });

function reject(code: SpiffeErrorCode, reason: string): MatchResult {
  return Object.freeze({ ok: false, code, reason });
}

function matcher(describe: string, match: (id: SpiffeId) => MatchResult): Matcher {
  return Object.freeze({ match, describe: () => describe });
}

/** Accepts every SPIFFE ID. Authentication still applies; this only waives authorization by ID. */
export function matchAny(): Matcher {
  return matcher('any spiffe id', () => ACCEPT);
}

/**
 * Accepts exactly `expected` (SPIFFE-ID §2: IDs compare exactly, path case is significant).
 * Rejects with `SPIFFE_MATCH_UNEXPECTED_ID`.
 */
export function matchId(expected: SpiffeId): Matcher {
  return matcher(`exactly ${expected}`, (id) =>
    id.equals(expected) ? ACCEPT : reject('SPIFFE_MATCH_UNEXPECTED_ID', `${id} is not ${expected}`),
  );
}

/** Accepts any of `expected`. Rejects with `SPIFFE_MATCH_UNEXPECTED_ID`; with none, rejects everything. */
export function matchOneOf(...expected: SpiffeId[]): Matcher {
  const ids = Object.freeze([...expected]);
  const list = ids.map(String).join(', ');
  return matcher(`one of [${list}]`, (id) =>
    ids.some((e) => e.equals(id))
      ? ACCEPT
      : reject('SPIFFE_MATCH_UNEXPECTED_ID', `${id} is not one of [${list}]`),
  );
}

/**
 * Accepts every ID in `trustDomain` (SPIFFE-ID §2.1), the trust domain's own ID included.
 * Rejects with `SPIFFE_MATCH_NOT_MEMBER`. A parent or child DNS-like name is a different trust domain.
 */
export function matchMemberOf(trustDomain: TrustDomain): Matcher {
  return matcher(`member of trust domain ${trustDomain}`, (id) =>
    id.memberOf(trustDomain)
      ? ACCEPT
      : reject('SPIFFE_MATCH_NOT_MEMBER', `${id} is not in trust domain ${trustDomain}`),
  );
}

/**
 * Accepts `prefix` itself and every ID below it, segment by segment: prefix `spiffe://td/a/b` accepts
 * `spiffe://td/a/b` and `spiffe://td/a/b/c` but not `spiffe://td/a/bc`. A prefix with an empty path
 * accepts the whole trust domain.
 *
 * Rejects with `SPIFFE_MATCH_NOT_MEMBER` for another trust domain, else `SPIFFE_MATCH_PATH_MISMATCH`.
 */
export function matchPathPrefix(prefix: SpiffeId): Matcher {
  const want = prefix.segments;
  return matcher(`path prefix ${prefix}`, (id) => {
    if (!id.memberOf(prefix.trustDomain)) {
      return reject('SPIFFE_MATCH_NOT_MEMBER', `${id} is not in trust domain ${prefix.trustDomain}`);
    }
    const got = id.segments;
    const under = want.length <= got.length && want.every((segment, i) => segment === got[i]);
    return under ? ACCEPT : reject('SPIFFE_MATCH_PATH_MISMATCH', `${id} is not under ${prefix}`);
  });
}

/**
 * Parses a path prefix written as a SPIFFE ID (`spiffe://td/a/b`) into {@link matchPathPrefix}.
 *
 * @throws {SpiffeError} `SPIFFE_MATCH_BAD_PATTERN`, with the ID error as `cause`.
 */
export function parsePathPrefix(pattern: string): Matcher {
  try {
    return matchPathPrefix(SpiffeId.parse(pattern));
  } catch (err) {
    throw new SpiffeError('SPIFFE_MATCH_BAD_PATTERN', JSON.stringify(pattern), { cause: err });
  }
}

/** One parsed glob segment: a literal, `*` (exactly one segment) or `**` (zero or more segments). */
type GlobSegment = { kind: 'literal'; value: string } | { kind: 'one' } | { kind: 'many' };

function parseGlobSegment(segment: string): GlobSegment {
  if (segment === '*') return { kind: 'one' };
  if (segment === '**') return { kind: 'many' };
  // Any other `*` would be a partial-segment wildcard, which these globs deliberately do not have:
  // it was left in place for the ID parser, which rejects it as a bad path character.
  return { kind: 'literal', value: segment };
}

/**
 * True when `segments` match `glob`: dynamic programming over (glob position, segment position), so
 * patterns with several `**` stay linear in their product rather than backtracking exponentially.
 */
function globMatches(glob: readonly GlobSegment[], segments: readonly string[]): boolean {
  // reach[j]: the first i glob segments can consume exactly the first j path segments.
  let reach = segments.map(() => false).concat(false);
  reach[0] = true;
  for (const g of glob) {
    const next = reach.map(() => false);
    for (let j = 0; j < reach.length; j++) {
      if (g.kind === 'many') next[j] = reach[j] === true || (j > 0 && next[j - 1] === true);
      else if (j > 0 && reach[j - 1]) next[j] = g.kind === 'one' || segments[j - 1] === g.value;
    }
    reach = next;
  }
  return reach[segments.length] === true;
}

/**
 * Parses a glob over SPIFFE IDs into a matcher. Semantics, segment by segment:
 *
 * - the pattern is `spiffe://<trust domain>` followed by zero or more `/<segment>`;
 * - the trust domain is literal: no wildcard ever crosses trust domains (Trust Domain and Bundle §6.4
 *   asks authorization to check the trust domain explicitly);
 * - a segment `*` matches exactly one path segment, whatever it contains;
 * - a segment `**` matches zero or more whole path segments, so `spiffe://td/a/**` matches
 *   `spiffe://td/a` and `spiffe://td/a/b/c`;
 * - every other segment is literal and must obey SPIFFE-ID §2.2; `*` inside a segment (`agent-*`) is
 *   not a wildcard and is rejected, as are empty segments, `.`/`..`, a trailing slash, query and fragment.
 *
 * The match rejects with `SPIFFE_MATCH_NOT_MEMBER` for another trust domain, else
 * `SPIFFE_MATCH_PATH_MISMATCH`.
 *
 * @throws {SpiffeError} `SPIFFE_MATCH_BAD_PATTERN` naming the pattern, with the ID rule broken as `cause`.
 */
export function parseGlob(pattern: string): Matcher {
  const { trustDomain, glob } = parseGlobPattern(pattern);
  return matcher(`glob ${pattern}`, (id) => {
    if (!id.memberOf(trustDomain)) {
      return reject('SPIFFE_MATCH_NOT_MEMBER', `${id} is not in trust domain ${trustDomain}`);
    }
    return globMatches(glob, id.segments)
      ? ACCEPT
      : reject('SPIFFE_MATCH_PATH_MISMATCH', `${id} does not match ${pattern}`);
  });
}

const SCHEME_PREFIX = 'spiffe://';

function parseGlobPattern(pattern: string): { trustDomain: TrustDomain; glob: GlobSegment[] } {
  try {
    // Wildcards are looked for in the path only: the authority ends at the first `/`, so a `*` there
    // stays in the trust domain name and is rejected as a bad character.
    const pathAt = pattern.startsWith(SCHEME_PREFIX) ? pattern.indexOf('/', SCHEME_PREFIX.length) : -1;
    const rawPath = pathAt === -1 ? '' : pattern.slice(pathAt);
    // Parse the pattern with each wildcard segment replaced by a valid placeholder, so that the ID
    // parser checks every other rule (scheme, trust domain, query, fragment, segments, length).
    const placeholder = rawPath.replace(/(?<=\/)\*\*?(?=\/|$)/g, 'x');
    const probe = SpiffeId.parse((pathAt === -1 ? pattern : pattern.slice(0, pathAt)) + placeholder);
    const segments = probe.path === '' ? [] : rawPath.slice(1).split('/');
    return { trustDomain: probe.trustDomain, glob: segments.map(parseGlobSegment) };
  } catch (err) {
    throw new SpiffeError('SPIFFE_MATCH_BAD_PATTERN', JSON.stringify(pattern), { cause: err });
  }
}
