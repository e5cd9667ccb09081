import { status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { isSpiffeError, SpiffeError, type SpiffeErrorCode } from '../errors.js';

/**
 * The one table from our error codes to gRPC status codes on the Workload API (SPIFFE Workload Endpoint
 * spec §6 "Error Codes"; Workload API spec §4.5, §5.2, §6.2). Exact codes win over area prefixes.
 *
 * - a request without the security header, or with a missing/invalid mandatory field → InvalidArgument;
 * - a caller with no identity, or asking for one it is not entitled to → PermissionDenied;
 * - a JWT-SVID that fails validation (any `SPIFFE_JWT_*`, or no bundle for its trust domain) →
 *   InvalidArgument, as SPIRE answers `ValidateJWTSVID`;
 * - the CA failing to mint → Unavailable (the client backs off and retries, as with SPIRE).
 */
const STATUS_BY_CODE: Readonly<Partial<Record<SpiffeErrorCode, GrpcStatus>>> = {
  SPIFFE_WORKLOAD_MISSING_HEADER: GrpcStatus.INVALID_ARGUMENT,
  SPIFFE_WORKLOAD_BAD_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  SPIFFE_WORKLOAD_NO_IDENTITY: GrpcStatus.PERMISSION_DENIED,
  SPIFFE_WORKLOAD_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  SPIFFE_WORKLOAD_BAD_RESPONSE: GrpcStatus.INTERNAL,
  SPIFFE_BUNDLE_NOT_FOUND: GrpcStatus.INVALID_ARGUMENT,
};

const STATUS_BY_AREA: readonly (readonly [prefix: string, status: GrpcStatus])[] = [
  ['SPIFFE_JWT_', GrpcStatus.INVALID_ARGUMENT],
  ['SPIFFE_ID_', GrpcStatus.INVALID_ARGUMENT],
  ['SPIFFE_CA_', GrpcStatus.UNAVAILABLE],
];

/** The reverse direction, for the client: what a Workload API status means to a taskpass caller. */
const CODE_BY_STATUS: Readonly<Partial<Record<GrpcStatus, SpiffeErrorCode>>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'SPIFFE_WORKLOAD_BAD_ARGUMENT',
  [GrpcStatus.PERMISSION_DENIED]: 'SPIFFE_WORKLOAD_NO_IDENTITY',
};

/** The gRPC status for one of our codes (Internal when the table has no entry). */
export function grpcStatusFor(code: SpiffeErrorCode): GrpcStatus {
  const exact = STATUS_BY_CODE[code];
  if (exact !== undefined) return exact;
  return STATUS_BY_AREA.find(([prefix]) => code.startsWith(prefix))?.[1] ?? GrpcStatus.INTERNAL;
}

/**
 * The status a handler sends for `err`. A {@link SpiffeError}'s message is the catalog text (never a
 * token or key); any other error is reported as Internal without its message, which may hold anything.
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> {
  if (isSpiffeError(err)) return { code: grpcStatusFor(err.code), details: err.message };
  return { code: GrpcStatus.INTERNAL, details: 'internal error' };
}

/** True when `err` is a status error from @grpc/grpc-js. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/**
 * Translates a failed Workload API call into our catalog where it enters (EXAMPLES.md "Errors"):
 * InvalidArgument → `SPIFFE_WORKLOAD_BAD_ARGUMENT`, PermissionDenied → `SPIFFE_WORKLOAD_NO_IDENTITY`,
 * every other status (Unavailable, Cancelled, DeadlineExceeded, Unimplemented…) →
 * `SPIFFE_WORKLOAD_UNAVAILABLE`. A {@link SpiffeError} passes through unchanged.
 */
export function fromGrpcError(err: unknown): SpiffeError {
  if (err instanceof SpiffeError) return err;
  if (!isServiceError(err)) return new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', undefined, { cause: err });
  const code = CODE_BY_STATUS[err.code as GrpcStatus] ?? 'SPIFFE_WORKLOAD_UNAVAILABLE';
  return new SpiffeError(code, `${GrpcStatus[err.code] ?? err.code}: ${err.details}`, { cause: err });
}
