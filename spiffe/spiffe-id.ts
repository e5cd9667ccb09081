import { SpiffeError } from './errors.js';
import {
  MAX_SPIFFE_ID_BYTES,
  SCHEME_PREFIX,
  splitSpiffeId,
  validatePath,
  validateSegment,
} from './internal/id-rules.js';
import { TrustDomain } from './trust-domain.js';

export { MAX_SPIFFE_ID_BYTES, validatePath };

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
    const { trustDomain, path } = splitSpiffeId(id);
    return new SpiffeId(TrustDomain.parse(trustDomain), path);
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
