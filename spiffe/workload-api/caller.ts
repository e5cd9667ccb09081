import type { Metadata } from '@grpc/grpc-js';
import { SpiffeError } from '../errors.js';
import type { PeerCredentials } from './peer-credentials.js';
import { WORKLOAD_SECURITY_HEADER } from './proto.js';
import { matchRegistrations, type Registrations, type WorkloadIdentity } from './registrations.js';

/** A caller after attestation: its kernel credentials (if learned) and the identities it is entitled to. */
export interface Caller {
  readonly peer: PeerCredentials | undefined;
  readonly identities: readonly WorkloadIdentity[];
}

/** The part of a gRPC server call that attestation reads (every grpc-js server call has it). */
export interface IncomingCall {
  getPeer(): string;
  readonly metadata: Metadata;
}

/** What attestation needs from the server. */
export interface CallerAttestation {
  registrations: Registrations;
  /** The credentials of the connection `call` arrived on. */
  peerOf(call: IncomingCall): Promise<PeerCredentials | undefined>;
  /** Bundle-only and validation calls are open to callers with no identity (SPIRE's `allow_unauthenticated_verifiers`). */
  allowUnauthenticatedVerifiers: boolean;
}

/**
 * Enforces the security header: exactly one `workload.spiffe.io` value, `true` (SPIFFE Workload Endpoint
 * spec §5; Workload API spec Appendix A, server step 3).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_MISSING_HEADER` (InvalidArgument on the wire).
 */
export function checkSecurityHeader(metadata: Metadata): void {
  const values = metadata.get(WORKLOAD_SECURITY_HEADER);
  if (values.length !== 1 || values[0] !== 'true') throw new SpiffeError('SPIFFE_WORKLOAD_MISSING_HEADER');
}

/**
 * Identifies the caller of `call`: checks the security header, then matches the connection's peer
 * credentials against the registrations (Workload API spec §4.1). Run on every response, so a stream
 * re-checks entitlement before each update (Appendix A, server step 6).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_MISSING_HEADER`.
 */
export async function attestCaller(call: IncomingCall, attestation: CallerAttestation): Promise<Caller> {
  checkSecurityHeader(call.metadata);
  const peer = await attestation.peerOf(call);
  return { peer, identities: matchRegistrations(attestation.registrations, peer) };
}

/**
 * The caller's identities, of which there must be at least one (§5.2.1, §6.2.1).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_NO_IDENTITY` (PermissionDenied: "no identity issued", as SPIRE).
 */
export function requireIdentity(caller: Caller): readonly WorkloadIdentity[] {
  if (caller.identities.length === 0) throw new SpiffeError('SPIFFE_WORKLOAD_NO_IDENTITY');
  return caller.identities;
}

/**
 * Admits a caller to bundle and validation calls (§5.2.2, §6.2.2: a caller not entitled to bundles gets
 * PermissionDenied): one with an identity, or anyone when unauthenticated verifiers are allowed.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_NO_IDENTITY`.
 */
export function requireVerifier(caller: Caller, attestation: CallerAttestation): void {
  if (!attestation.allowUnauthenticatedVerifiers) requireIdentity(caller);
}
