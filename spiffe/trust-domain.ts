import { SpiffeError } from './errors.js';

/** Maximum length of a trust domain name (SPIFFE-ID spec §2.1). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const SCHEME_PREFIX = 'spiffe://';

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

/**
 * A SPIFFE trust domain (SPIFFE-ID spec §2.1): an immutable, validated value.
 *
 * Only {@link TrustDomain.parse} creates one, so holding a `TrustDomain` proves the name is valid.
 */
export class TrustDomain {
  /** The trust domain name, e.g. `example.org`. */
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
    Object.freeze(this);
  }

  /**
   * Parses a trust domain from a bare name (`example.org`) or from a SPIFFE ID
   * (`spiffe://example.org/workload`), whose trust domain is taken.
   *
   * @throws {SpiffeError} a `SPIFFE_ID_*` code naming the broken rule.
   */
  static parse(nameOrId: string): TrustDomain {
    if (nameOrId.length === 0) throw new SpiffeError('SPIFFE_ID_MISSING_TRUST_DOMAIN');
    if (nameOrId.includes(':/')) {
      // Looks like a URI: the authority of a valid SPIFFE ID is the trust domain.
      if (!nameOrId.startsWith(SCHEME_PREFIX)) throw new SpiffeError('SPIFFE_ID_WRONG_SCHEME');
      const rest = nameOrId.slice(SCHEME_PREFIX.length);
      const end = rest.search(/[/?#]/);
      const name = end === -1 ? rest : rest.slice(0, end);
      validateTrustDomainName(name);
      return new TrustDomain(name);
    }
    validateTrustDomainName(nameOrId);
    return new TrustDomain(nameOrId);
  }

  /** The trust domain's own SPIFFE ID string, `spiffe://<name>`. */
  get idString(): string {
    return SCHEME_PREFIX + this.name;
  }

  /** True when both name the same trust domain. */
  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  /** The bare name. */
  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}
