import type { RevocationSelector } from '../../client/types.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import { BrokerError } from '../errors.js';

/** The `--selector` keys and the JSON member of `POST /v1/revocations` each sets. */
const KEYS: Readonly<Record<string, keyof RevocationSelector>> = Object.freeze({
  prefix: 'spiffe_id_prefix',
  glob: 'spiffe_id_glob',
  trust_domain: 'trust_domain',
  provider: 'provider',
  started_before: 'started_before',
});

/** RFC 3339 §5.6 `date-time`, with a mandatory offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const usage = (detail: string): BrokerError => new BrokerError('BROKER_CLI_USAGE', `--selector: ${detail}`);

/**
 * Parses `--selector EXPR`: comma-separated `key=value` pairs with keys `prefix`, `glob`,
 * `trust_domain`, `provider`, `started_before` (RFC 3339), each at most once, into the `selector` of
 * `POST /v1/revocations`. Every pair must hold for a task to match (the broker ANDs them).
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` for an empty expression, a pair without `=` or value, an
 *   unknown or repeated key, a timestamp that is not RFC 3339; {@link SpiffeError} for a bad trust domain.
 */
export function parseSelectorFlag(expr: string): RevocationSelector {
  if (expr.trim() === '') throw usage('give at least one key=value');
  const selector: Partial<Record<keyof RevocationSelector, string>> = {};
  for (const part of expr.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const member = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (member === undefined)
      throw usage(`unknown key ${JSON.stringify(key)}; keys: ${Object.keys(KEYS).join(', ')}`);
    if (value === '') throw usage(`${key} needs a value (key=value)`);
    if (selector[member] !== undefined) throw usage(`${key} is given twice`);
    if (member === 'started_before' && !(RFC3339.test(value) && !Number.isNaN(Date.parse(value))))
      throw usage('started_before takes an RFC 3339 time such as 2025-01-01T00:00:00Z');
    if (member === 'trust_domain') TrustDomain.parse(value);
    selector[member] = value;
  }
  return selector;
}
