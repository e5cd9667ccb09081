/** A JSON value: what the ledger's `details` and the revocation handles hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Encodes `value` as canonical JSON: object keys sorted by UTF-16 code unit (as RFC 8785 JCS), no
 * whitespace, strings and finite numbers as `JSON.stringify` writes them. The same value always
 * gives the same text, which is what the ledger hashes.
 *
 * Only JSON types are accepted, so that no implicit conversion can hide in the hashed text: callers
 * convert dates, bigints and identities explicitly first.
 *
 * @throws {TypeError} for `undefined`, a non-finite number, a bigint, a function, a symbol, or an
 *   object that is not a plain object or array (e.g. a `Date`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical json: non-finite number');
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      if (!isPlainObject(value)) throw new TypeError('canonical json: not a plain object');
      return `{${Object.keys(value)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    default:
      throw new TypeError(`canonical json: unsupported ${typeof value}`);
  }
}
