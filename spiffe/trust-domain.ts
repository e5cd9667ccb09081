import { SpiffeError } from './errors.js';
import {
  MAX_TRUST_DOMAIN_LENGTH,
  SCHEME_PREFIX,
  splitSpiffeId,
  validateTrustDomainName,
} from './internal/id-rules.js';

export { MAX_TRUST_DOMAIN_LENGTH, validateTrustDomainName };

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
   * (`spiffe://example.org/workload`, validated as a whole), whose trust domain is taken.
   *
   * @throws {SpiffeError} a `SPIFFE_ID_*` code naming the broken rule.
   */
  static parse(nameOrId: string): TrustDomain {
    if (nameOrId.length === 0) throw new SpiffeError('SPIFFE_ID_MISSING_TRUST_DOMAIN');
    if (nameOrId.includes(':/')) {
      // Looks like a URI: it must be a whole valid SPIFFE ID, whose trust domain is taken.
      return new TrustDomain(splitSpiffeId(nameOrId).trustDomain);
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
