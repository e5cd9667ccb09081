import type { ManifestEntry } from '../../client/types.js';
import { BrokerError } from '../errors.js';

/** `PROVIDER:SCOPE[,SCOPE…]`; the provider is split at the first `:` because scopes hold colons (`crm:read`). */
const ENTRY = /^([A-Za-z0-9._-]+):(.*)$/;

/**
 * Parses repeated `--manifest PROVIDER:SCOPE[,SCOPE…]` values into the task manifest of
 * `POST /v1/tasks`: each entry names a provider and at least one scope. The broker validates the
 * scope syntax and the policy; this checks only the shape of the flag.
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` naming the malformed value.
 */
export function parseManifestFlags(values: readonly string[]): ManifestEntry[] {
  return values.map((value) => {
    const match = ENTRY.exec(value);
    if (!match)
      throw new BrokerError(
        'BROKER_CLI_USAGE',
        `--manifest takes PROVIDER:SCOPE[,SCOPE…], not ${JSON.stringify(value)}`,
      );
    const scopes = match[2]!.split(',');
    if (scopes.some((s) => s === '' || /\s/.test(s)))
      throw new BrokerError(
        'BROKER_CLI_USAGE',
        `--manifest has an empty or blank scope in ${JSON.stringify(value)}`,
      );
    return { provider: match[1]!, scopes };
  });
}
