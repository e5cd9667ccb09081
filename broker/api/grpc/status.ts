/**
 * THE table from taskpass error codes to gRPC status codes, used by every handler of the Broker
 * service through {@link toGrpcError}. It is derived from the one HTTP status table
 * (`../http/error-status.ts`, itself the error catalog), so a code means the same on both transports,
 * with the few exact exceptions listed in {@link STATUS_BY_CODE}.
 *
 * @packageDocumentation
 */
import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { BrokerErrorCode } from '../../errors.js';
import { describeError, httpStatusOf } from '../http/error-status.js';

/** The trailing metadata key that carries the stable error code of a refused call. */
export const ERROR_CODE_METADATA = 'taskpass-error-code';

/**
 * gRPC status by the code's HTTP status (gRPC status codes doc; google.rpc.Code's HTTP mapping):
 * a bad input is INVALID_ARGUMENT, a missing or bad SVID UNAUTHENTICATED, a policy refusal
 * PERMISSION_DENIED, "not found or not authorized" NOT_FOUND, a state conflict (task already ended,
 * deadline passed) FAILED_PRECONDITION, a quota or rate limit RESOURCE_EXHAUSTED, a database or
 * backend that is down UNAVAILABLE (the client may retry). Anything else is INTERNAL.
 */
const STATUS_BY_HTTP: Readonly<Record<number, GrpcStatus>> = Object.freeze({
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.FAILED_PRECONDITION,
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  415: GrpcStatus.INVALID_ARGUMENT,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  501: GrpcStatus.UNIMPLEMENTED,
  503: GrpcStatus.UNAVAILABLE,
  504: GrpcStatus.DEADLINE_EXCEEDED,
});

/**
 * Exact codes whose gRPC status is not the one their HTTP status gives: a duplicate record is
 * ALREADY_EXISTS (HTTP has one 409 for it and for state conflicts).
 */
const STATUS_BY_CODE: Readonly<Partial<Record<BrokerErrorCode, GrpcStatus>>> = Object.freeze({
  BROKER_STORE_CONFLICT: GrpcStatus.ALREADY_EXISTS,
});

/** The gRPC status of any catalog code (broker or SPIFFE); INTERNAL for an unknown one. */
export function grpcStatusOf(code: string): GrpcStatus {
  const exact = (STATUS_BY_CODE as Readonly<Record<string, GrpcStatus>>)[code];
  if (exact !== undefined) return exact;
  return STATUS_BY_HTTP[httpStatusOf(code)] ?? GrpcStatus.INTERNAL;
}

/** A refusal as the gRPC transport answers it, plus what the log needs. */
export interface GrpcErrorView {
  /** What the handler passes to the callback / `call.emit('error', …)`. */
  readonly status: Partial<StatusObject> & { code: GrpcStatus; details: string; metadata: Metadata };
  /** The stable taskpass code (also in the `taskpass-error-code` trailer). */
  readonly code: string;
  /** True for a failure on our side (logged with the error object). */
  readonly internal: boolean;
}

/**
 * Maps any thrown value to a gRPC status: the code of {@link grpcStatusOf}, the catalog message in
 * `details` (only the catalog text for failures on our side: details of internal failures stay in the
 * log, as on HTTP), and the stable code in the `taskpass-error-code` trailing metadata. Messages never
 * contain tokens, keys or secrets (the catalog's rule), so nothing secret reaches the client.
 */
export function toGrpcError(err: unknown): GrpcErrorView {
  const view = describeError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, view.code);
  return {
    status: { code: grpcStatusOf(view.code), details: view.message, metadata },
    code: view.code,
    internal: view.status >= 500 && view.status !== 501,
  };
}
