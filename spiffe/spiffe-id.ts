import { SpiffeError } from './errors.js';
import { TrustDomain, validateTrustDomainName } from './trust-domain.js';

/** Maximum length in bytes of a SPIFFE ID URI (SPIFFE-ID spec §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048;

const SCHEME_PREFIX = 'spiffe://';

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

function validateSegment(segment: string, last: boolean): void {
  if (segment.length === 0) {
    throw new SpiffeError(last ? 'SPIFFE_ID_TRAILING_SLASH' : 'SPIFFE_ID_EMPTY_SEGMENT');
  }
  if (segment === '.' || segment === '..') throw new SpiffeError('SPIFFE_ID_DOT_SEGMENT');
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x25) throw new SpiffeError('SPIFFE_ID_PERCENT_ENCODED');
    if (!isPathChar(c)) throw new SpiffeError('SPIFFE_ID_BAD_PATH_CHAR', `in segment ${JSON.stringify(segment)}`);
  }
}

/**
 * A SPIFFE ID (SPIFFE-ID spec §2): an immutable, validated value of a trust domain and a path.
 *
 * Only the static constructors create one, so holding a `SpiffeId` proves it satisfies every rule of
 * the spec. Compare with {@link SpiffeId.equals}, never by string.
 */
export class SpiffeId {
  /** The trust domain the ID belongs to. */
  readonly trustDomain: TrustDomain;
  /** The path, `''` or starting with `/`. */
  readonly path: string;

  private constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    Object.freeze(this);
  }

  /**
   * Parses and validates a SPIFFE ID string such as `spiffe://example.org/ns/prod/sa/agent`.
   *
   * @throws {SpiffeError} a `SPIFFE_ID_*` code naming the first broken rule.
   */
  static parse(id: string): SpiffeId {
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
    if (queryAt !== -1 && (fragmentAt === -1 || queryAt < fragmentAt)) throw new SpiffeError('SPIFFE_ID_HAS_QUERY');
    if (fragmentAt !== -1) throw new SpiffeError('SPIFFE_ID_HAS_FRAGMENT');
    validatePath(tail);
    return new SpiffeId(TrustDomain.parse(name), tail);
  }

  /**
   * Builds an ID from a trust domain and a path (`''` or `/a/b`).
   *
   * @throws {SpiffeError} a path code of {@link validatePath}, or `SPIFFE_ID_TOO_LONG`.
   */
  static fromPath(trustDomain: TrustDomain, path: string): SpiffeId {
    validatePath(path);
    if (Buffer.byteLength(SCHEME_PREFIX + trustDomain.name + path, 'utf8') > MAX_SPIFFE_ID_BYTES) {
      throw new SpiffeError('SPIFFE_ID_TOO_LONG');
    }
    return new SpiffeId(trustDomain, path);
  }

  /**
   * Builds an ID from a trust domain and path segments, each validated on its own
   * (`fromSegments(td, 'ns', 'prod')` → `spiffe://td/ns/prod`).
   *
   * @throws {SpiffeError} as {@link SpiffeId.fromPath}.
   */
  static fromSegments(trustDomain: TrustDomain, ...segments: string[]): SpiffeId {
    // Validate each segment before joining: a `/` inside one must not silently become two segments,
    // and an empty one is an empty segment, not a trailing slash.
    segments.forEach((segment) => validateSegment(segment, false));
    return SpiffeId.fromPath(trustDomain, segments.map((s) => `/${s}`).join(''));
  }

  /** The ID of the trust domain itself, `spiffe://<td>` with an empty path. */
  static forTrustDomain(trustDomain: TrustDomain): SpiffeId {
    return new SpiffeId(trustDomain, '');
  }

  /** The path's segments, `[]` for an empty path. */
  get segments(): readonly string[] {
    return this.path === '' ? [] : this.path.slice(1).split('/');
  }

  /** True when the ID belongs to `trustDomain`. */
  memberOf(trustDomain: TrustDomain): boolean {
    return this.trustDomain.equals(trustDomain);
  }

  /** True when both are the same ID. SPIFFE IDs compare exactly (path case is significant). */
  equals(other: SpiffeId): boolean {
    return this.trustDomain.equals(other.trustDomain) && this.path === other.path;
  }

  /** The URI form, `spiffe://<trust domain><path>`. */
  toString(): string {
    return SCHEME_PREFIX + this.trustDomain.name + this.path;
  }

  toJSON(): string {
    return this.toString();
  }
}
