import { SpiffeError } from '../errors.js';
import type { StructMessage, ValueMessage } from './proto.js';

/** A JSON value, as JWT claims are. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Encodes JSON claims as a `google.protobuf.Struct` (the `claims` field of `ValidateJWTSVIDResponse`,
 * Workload API spec §6.1). Values with no JSON meaning (undefined, functions) are dropped, as
 * `JSON.stringify` drops them.
 */
export function toStruct(object: Record<string, unknown>): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [key, value] of Object.entries(object)) {
    const encoded = toValue(value);
    if (encoded) fields[key] = encoded;
  }
  return { fields };
}

function toValue(value: unknown): ValueMessage | undefined {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof value) {
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return { numberValue: value };
    case 'string':
      return { stringValue: value };
    case 'object':
      if (Array.isArray(value))
        return { listValue: { values: value.map((v) => toValue(v) ?? { nullValue: 'NULL_VALUE' }) } };
      return { structValue: toStruct(value as Record<string, unknown>) };
    default:
      return undefined;
  }
}

/**
 * Decodes a `google.protobuf.Struct` back into a JSON object.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE` when a value has no kind set.
 */
export function fromStruct(struct: StructMessage | null | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = fromValue(value);
  return out;
}

function fromValue(value: ValueMessage): JsonValue {
  switch (value.kind ?? kindOf(value)) {
    case 'nullValue':
      return null;
    case 'boolValue':
      return value.boolValue ?? false;
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'structValue':
      return fromStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromValue);
    default:
      throw new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', 'claims value without a kind');
  }
}

function kindOf(value: ValueMessage): string | undefined {
  const kinds = ['nullValue', 'boolValue', 'numberValue', 'stringValue', 'structValue', 'listValue'] as const;
  return kinds.find((k) => value[k] !== undefined);
}
