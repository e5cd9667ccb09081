import { BrokerError } from '../errors.js';

/** Encodes keyset values as an opaque cursor (base64url of a tagged JSON array). */
export function encodeCursor(tag: string, values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([tag, ...values]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} with the same `tag`.
 *
 * @throws {BrokerError} `BROKER_LEDGER_BAD_CURSOR` for anything else (wrong tag, arity or types).
 */
export function decodeCursor(
  tag: string,
  cursor: string,
  types: readonly ('string' | 'number')[],
): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BrokerError('BROKER_LEDGER_BAD_CURSOR');
  }
  if (!Array.isArray(parsed) || parsed[0] !== tag || parsed.length !== types.length + 1) {
    throw new BrokerError('BROKER_LEDGER_BAD_CURSOR');
  }
  const values = parsed.slice(1);
  if (values.some((v, i) => typeof v !== types[i] || (typeof v === 'number' && !Number.isSafeInteger(v)))) {
    throw new BrokerError('BROKER_LEDGER_BAD_CURSOR');
  }
  return values;
}

/** Clamps a page size to 1..1000 (default 100). */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1)
    throw new BrokerError('BROKER_INPUT_INVALID', 'limit must be >= 1');
  return Math.min(limit, 1000);
}
