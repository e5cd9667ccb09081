/**
 * The SPIFFE Workload API: a server that hands out SVIDs from a CA to attested local callers, and a
 * client (plus a self-updating source) for any Workload API endpoint, such as a SPIRE agent.
 *
 * @packageDocumentation
 */
export {
  createBundleFeed,
  type BundleFeed,
  type BundleFeedOptions,
  type MutableBundleFeed,
} from './bundle-feed.js';
export {
  createWorkloadApiClient,
  decodeX509Context,
  type JwtSvidRequest,
  type ValidatedJwtSvid,
  type WorkloadApiClient,
  type WorkloadApiClientOptions,
  type X509Context,
} from './client.js';
export { grpcTarget, parseEndpointAddress, type EndpointAddress } from './endpoint-address.js';
export { fromGrpcError, grpcStatusFor } from './grpc-status.js';
export { silentLogger, type WorkloadApiLogger } from './logger.js';
export {
  createSoPeerCredResolver,
  PERL_PEERCRED_HELPER,
  PYTHON_PEERCRED_HELPER,
  type PeerCredentials,
  type PeerCredentialsResolver,
  type PeerCredHelper,
  type SoPeerCredResolverOptions,
} from './peer-credentials.js';
export { findProtoDir, loadWorkloadApiProto, WORKLOAD_SECURITY_HEADER } from './proto.js';
export {
  createRegistrations,
  matchRegistrations,
  parseRegistrations,
  type RegistrationEntry,
  type Registrations,
  type UnixSelectors,
  type WorkloadIdentity,
} from './registrations.js';
export {
  createWorkloadApiServer,
  DEFAULT_SOCKET_MODE,
  type WorkloadApiServer,
  type WorkloadApiServerOptions,
} from './server.js';
export { DEFAULT_BACKOFF, type Backoff, type Watch } from './stream-watch.js';
export type { SvidIssuer } from './svid-issuer.js';
export { schedule, systemTimers, type TimerHandle, type Timers } from './timers.js';
export { createWorkloadSource, type WorkloadSource, type WorkloadSourceOptions } from './workload-source.js';
export { rotationTime } from './x509-svid-cache.js';
