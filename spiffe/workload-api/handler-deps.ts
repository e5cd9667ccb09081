import type { CallerAttestation } from './caller.js';
import type { PushStreamDeps } from './push-stream.js';
import type { SvidIssuer } from './svid-issuer.js';
import type { X509SvidCache } from './x509-svid-cache.js';

/** Everything the Workload API handlers use; built once per server by `createWorkloadApiServer`. */
export interface WorkloadHandlerDeps extends PushStreamDeps, CallerAttestation {
  issuer: SvidIssuer;
  svids: X509SvidCache;
  /** TTL asked of the issuer for JWT-SVIDs; its default when omitted. */
  jwtSvidTtlSeconds?: number;
}
