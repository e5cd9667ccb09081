import { SpiffeError } from '../errors.js';

// The SPIFFE-ID rules in one place, shared by SpiffeId and TrustDomain (which would otherwise import
// each other).

/** Maximum length of a trust domain name (SPIFFE-ID spec §2.1). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;
/** Maximum length in bytes of a SPIFFE ID URI (SPIFFE-ID spec §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** The scheme and separator every SPIFFE ID starts with (SPIFFE-ID spec §2). */
export const SCHEME_PREFIX = 'spiffe://';

function isTrustDomainChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  );
}

/**
 * Validates a bare trust domain name per SPIFFE-ID spec §2.1.
 *
 * @throws {SpiffeError} `SPIFFE_ID_MISSING_TRUST_DOMAIN`, `SPIFFE_ID_HAS_USERINFO`, `SPIFFE_ID_HAS_PORT`,
 * `SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR` or `SPIFFE_ID_TRUST_DOMAIN_TOO_LONG`.
 */
export function validateTrustDomainName(name: string): void {
  if (name.length === 0) throw new SpiffeError('SPIFFE_ID_MISSING_TRUST_DOMAIN');
  // Name the URI authority feature the caller used, rather than only "bad character": an
  // operator who wrote `spiffe://user@td:8443` needs to know which part is not allowed.
  if (name.includes('@')) throw new SpiffeError('SPIFFE_ID_HAS_USERINFO');
  if (name.includes(':')) throw new SpiffeError('SPIFFE_ID_HAS_PORT');
  for (let i = 0; i < name.length; i++) {
    if (!isTrustDomainChar(name.charCodeAt(i))) {
      throw new SpiffeError('SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', `character at offset ${i}`);
    }
  }
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) throw new SpiffeError('SPIFFE_ID_TRUST_DOMAIN_TOO_LONG');
}

function isPathChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  );
}

/**
 * Validates a SPIFFE ID path per SPIFFE-ID spec §2.2: empty, or `/`-separated non-empty segments of
 * `[A-Za-z0-9._-]`, no `.`/`..` segments, no percent-encoding, no trailing slash.
 *
 * @throws {SpiffeError} `SPIFFE_ID_NO_LEADING_SLASH`, `SPIFFE_ID_EMPTY_SEGMENT`, `SPIFFE_ID_TRAILING_SLASH`,
 * `SPIFFE_ID_DOT_SEGMENT`, `SPIFFE_ID_PERCENT_ENCODED` or `SPIFFE_ID_BAD_PATH_CHAR`.
 */
export function validatePath(path: string): void {
  if (path.length === 0) return;
  if (path[0] !== '/') throw new SpiffeError('SPIFFE_ID_NO_LEADING_SLASH');
  const segments = path.slice(1).split('/');
  segments.forEach((segment, index) => validateSegment(segment, index === segments.length - 1));
}

/** Validates one path segment (SPIFFE-ID spec §2.2); `last` tells a trailing slash from an empty segment. */
export function validateSegment(segment: string, last: boolean): void {
  if (segment.length === 0) {
    throw new SpiffeError(last ? 'SPIFFE_ID_TRAILING_SLASH' : 'SPIFFE_ID_EMPTY_SEGMENT');
  }
  if (segment === '.' || segment === '..') throw new SpiffeError('SPIFFE_ID_DOT_SEGMENT');
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x25) throw new SpiffeError('SPIFFE_ID_PERCENT_ENCODED');
    if (!isPathChar(c))
      throw new SpiffeError('SPIFFE_ID_BAD_PATH_CHAR', `in segment ${JSON.stringify(segment)}`);
  }
}

/**
 * Splits and validates a whole SPIFFE ID URI (SPIFFE-ID spec §2–§2.3) into its trust domain name and
 * path.
 *
 * @throws {SpiffeError} a `SPIFFE_ID_*` code naming the first broken rule.
 */
export function splitSpiffeId(id: string): { trustDomain: string; path: string } {
  if (id.length === 0) throw new SpiffeError('SPIFFE_ID_EMPTY');
  if (Buffer.byteLength(id, 'utf8') > MAX_SPIFFE_ID_BYTES) throw new SpiffeError('SPIFFE_ID_TOO_LONG');
  if (!id.startsWith(SCHEME_PREFIX)) throw new SpiffeError('SPIFFE_ID_WRONG_SCHEME');
  const rest = id.slice(SCHEME_PREFIX.length);
  const authorityEnd = rest.search(/[/?#]/);
  const name = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  validateTrustDomainName(name);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const queryAt = tail.indexOf('?');
  const fragmentAt = tail.indexOf('#');
  if (queryAt !== -1 && (fragmentAt === -1 || queryAt < fragmentAt))
    throw new SpiffeError('SPIFFE_ID_HAS_QUERY');
  if (fragmentAt !== -1) throw new SpiffeError('SPIFFE_ID_HAS_FRAGMENT');
  validatePath(tail);
  return { trustDomain: name, path: tail };
}
