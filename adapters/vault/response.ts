import type { JsonObject, JsonValue } from '../credential-adapter.js';
import { VaultRequestError, type VaultAnswer } from './client.js';

/** The `auth` block of a login or token-creation answer. */
export interface VaultAuth {
  /** The token itself: a secret, never logged or persisted. */
  readonly clientToken: string;
  readonly accessor: string;
  /** Seconds; 0 means the token never expires (root tokens). */
  readonly leaseDuration: number;
  readonly renewable: boolean;
}

/** The `wrap_info` block of a wrapped answer. */
export interface VaultWrapInfo {
  /** The single-use wrapping token: what the workload receives. */
  readonly token: string;
  readonly accessor: string;
  readonly ttl: number;
  /** The accessor of the token inside, when the wrapped answer was a token (`auth`). */
  readonly wrappedAccessor: string;
}

/** A leased secret from a secrets engine (`database/creds/ROLE`, `pki/issue/ROLE`…). */
export interface VaultLeasedSecret {
  readonly leaseId: string;
  readonly leaseDuration: number;
  readonly renewable: boolean;
  readonly data: JsonObject;
}

function malformed(where: string, what: string): VaultRequestError {
  return new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${where}: ${what}`);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function seconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A non-empty string field, or undefined. */
export function stringField(obj: unknown, key: string): string | undefined {
  const value = record(obj)?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The accessor named anywhere in an answer (`auth.accessor`, `wrap_info.wrapped_accessor`), even when
 * the rest of it is unusable: what a failed issuance must revoke so that nothing is left behind.
 */
export function accessorIn(answer: VaultAnswer): string | undefined {
  return stringField(answer?.['auth'], 'accessor') ?? stringField(answer?.['wrap_info'], 'wrapped_accessor');
}

/**
 * Reads `auth` from a login, create or renew answer.
 *
 * @throws {VaultRequestError} `BROKER_ADAPTER_BACKEND_MALFORMED` naming the missing field.
 */
export function parseAuth(answer: VaultAnswer, where: string, needToken = true): VaultAuth {
  const auth = record(answer?.['auth']);
  if (auth === undefined) throw malformed(where, 'answer has no auth block');
  const clientToken = typeof auth['client_token'] === 'string' ? auth['client_token'] : '';
  const accessor = typeof auth['accessor'] === 'string' ? auth['accessor'] : '';
  const leaseDuration = seconds(auth['lease_duration']);
  if (needToken && clientToken === '') throw malformed(where, 'auth.client_token is missing');
  if (leaseDuration === undefined) throw malformed(where, 'auth.lease_duration is not a whole number');
  if (typeof auth['renewable'] !== 'boolean') throw malformed(where, 'auth.renewable is not a boolean');
  return { clientToken, accessor, leaseDuration, renewable: auth['renewable'] };
}

/**
 * Reads `wrap_info` from a wrapped answer.
 *
 * @throws {VaultRequestError} `BROKER_ADAPTER_BACKEND_MALFORMED`.
 */
export function parseWrapInfo(answer: VaultAnswer, where: string): VaultWrapInfo {
  const info = record(answer?.['wrap_info']);
  const token = stringField(info, 'token');
  const ttl = seconds(info?.['ttl']);
  if (info === undefined || token === undefined || ttl === undefined || ttl === 0) {
    throw malformed(where, 'answer has no usable wrap_info');
  }
  return {
    token,
    accessor: stringField(info, 'accessor') ?? '',
    ttl,
    wrappedAccessor: stringField(info, 'wrapped_accessor') ?? '',
  };
}

/**
 * Reads a leased secret (`lease_id`, `lease_duration`, `renewable`, `data`).
 *
 * @throws {VaultRequestError} `BROKER_ADAPTER_BACKEND_MALFORMED`.
 */
export function parseLeasedSecret(answer: VaultAnswer, where: string): VaultLeasedSecret {
  const leaseId = stringField(answer, 'lease_id');
  const leaseDuration = seconds(answer?.['lease_duration']);
  const data = record(answer?.['data']);
  if (leaseId === undefined) throw malformed(where, 'answer has no lease_id (not a dynamic secret)');
  if (leaseDuration === undefined || leaseDuration === 0)
    throw malformed(where, 'lease_duration is unusable');
  if (typeof answer?.['renewable'] !== 'boolean') throw malformed(where, 'renewable is not a boolean');
  if (data === undefined || Object.keys(data).length === 0) throw malformed(where, 'answer has no data');
  return { leaseId, leaseDuration, renewable: answer['renewable'], data: data as { [k: string]: JsonValue } };
}

/**
 * Reads the `lease_duration` of a `sys/leases/renew` answer (top level, as Vault returns it).
 *
 * @throws {VaultRequestError} `BROKER_ADAPTER_BACKEND_MALFORMED`.
 */
export function parseLeaseRenewal(answer: VaultAnswer, where: string): number {
  const leaseDuration = seconds(answer?.['lease_duration']);
  if (leaseDuration === undefined) throw malformed(where, 'lease_duration is not a whole number');
  return leaseDuration;
}

/** `data.ttl` of a token or lease lookup: remaining seconds, when Vault gave a number. */
export function lookupTtl(answer: VaultAnswer): number | undefined {
  return seconds(record(answer?.['data'])?.['ttl']);
}
