/**
 * Request validation for the gRPC transport: the same limits as the HTTP API's JSON Schemas
 * (`../http/schemas.ts` {@link LIMITS}), checked before any port is called, so anything malformed or
 * oversized is refused with `BROKER_INPUT_INVALID` (INVALID_ARGUMENT) and changes nothing (DESIGN.md
 * invariant 5). Protobuf already fixes the types; these checks fix sizes, shapes and enumerations.
 *
 * Messages name the field and the rule, never the value (which may be a token).
 *
 * @packageDocumentation
 */
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { isUuid } from '../../issuance/id-source.js';
import { LIMITS } from '../http/schemas.js';

/** The largest page a list call may ask for. */
export const MAX_PAGE = 1000;

/** A provider or intent name: the HTTP API's `idSchema`. */
const NAME = /^[A-Za-z0-9._:-]+$/;
/** An RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const SCOPE = /^[!#-[\]-~]+$/;
/** An RFC 3339 §5.6 date-time. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** @throws {BrokerError} `BROKER_INPUT_INVALID` naming `field`. */
export function invalid(field: string, rule: string): BrokerError {
  return new BrokerError('BROKER_INPUT_INVALID', `${field}: ${rule}`);
}

/** A string of `min..max` characters. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function text(value: string | undefined, field: string, max: number, min = 1): string {
  if (value === undefined || value.length < min) throw invalid(field, 'is required');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

/** {@link text}, or undefined when absent. */
export function optionalText(value: string | undefined, field: string, max: number): string | undefined {
  return value === undefined ? undefined : text(value, field, max);
}

/** A task or credential id: a UUID. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function uuid(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw invalid(field, 'is required');
  if (value.length > LIMITS.id || !isUuid(value)) throw invalid(field, 'must be a uuid');
  return value;
}

/** {@link uuid}, or undefined when absent. */
export function optionalUuid(value: string | undefined, field: string): string | undefined {
  return value === undefined ? undefined : uuid(value, field);
}

/** A provider or intent name (1..128 of `A-Za-z0-9._:-`). @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function name(value: string | undefined, field: string): string {
  const v = text(value, field, LIMITS.id);
  if (!NAME.test(v)) throw invalid(field, 'may contain only letters, digits and . _ : -');
  return v;
}

/** {@link name}, or undefined when absent. */
export function optionalName(value: string | undefined, field: string): string | undefined {
  return value === undefined ? undefined : name(value, field);
}

/** Distinct scope-tokens, at most 64. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function scopes(values: readonly string[] | undefined, field: string): string[] {
  const list = [...(values ?? [])];
  if (list.length > LIMITS.scopes) throw invalid(field, `must have at most ${LIMITS.scopes} entries`);
  list.forEach((s, i) => {
    if (s.length < 1 || s.length > LIMITS.scope || !SCOPE.test(s)) {
      throw invalid(`${field}[${i}]`, 'must be an RFC 6749 scope-token');
    }
  });
  if (new Set(list).size !== list.length) throw invalid(field, 'must not repeat a scope');
  return list;
}

/** A lifetime in whole seconds, 1..604800, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function ttlSeconds(value: number | undefined, field = 'ttl_seconds'): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxTtlSeconds) {
    throw invalid(field, `must be 1..${LIMITS.maxTtlSeconds}`);
  }
  return value;
}

/** A page size 1..1000, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function pageLimit(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw invalid('limit', `must be 1..${MAX_PAGE}`);
  return value;
}

/** An opaque cursor, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function cursor(value: string | undefined): string | undefined {
  return optionalText(value, 'cursor', LIMITS.cursor);
}

/**
 * A SPIFFE ID.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` when absent or too long; {@link SpiffeError} naming the
 *   broken SPIFFE-ID rule otherwise (INVALID_ARGUMENT too).
 */
export function spiffeId(value: string | undefined, field: string): SpiffeId {
  return SpiffeId.parse(text(value, field, LIMITS.spiffeId));
}

/** {@link spiffeId}, or undefined when absent. */
export function optionalSpiffeId(value: string | undefined, field: string): SpiffeId | undefined {
  return value === undefined ? undefined : spiffeId(value, field);
}

/** An RFC 3339 date-time, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function optionalDateTime(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(text(value, field, 64));
  if (!DATE_TIME.test(value) || Number.isNaN(date.getTime()))
    throw invalid(field, 'must be an RFC 3339 date-time');
  return date;
}

/** One of `allowed`, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function optionalOneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  field: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw invalid(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** One of `allowed`. @throws {BrokerError} `BROKER_INPUT_INVALID`, also when absent. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string): T {
  const v = optionalOneOf(value, allowed, field);
  if (v === undefined) throw invalid(field, 'is required');
  return v;
}
