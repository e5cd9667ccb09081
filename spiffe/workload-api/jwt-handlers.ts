import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { BundleSet } from '../bundle-set.js';
import { SpiffeError } from '../errors.js';
import { verifyJwtSvid } from '../jwt-svid.js';
import { SpiffeId } from '../spiffe-id.js';
import { attestCaller, requireIdentity, requireVerifier } from './caller.js';
import { toGrpcStatus } from './grpc-status.js';
import { serveBundleStream } from './bundle-stream.js';
import type { WorkloadHandlerDeps } from './handler-deps.js';
import type {
  JwtBundlesResponseMessage,
  JwtSvidRequestMessage,
  JwtSvidResponseMessage,
  ValidateJwtSvidRequestMessage,
  ValidateJwtSvidResponseMessage,
} from './proto.js';
import type { WorkloadIdentity } from './registrations.js';
import { toStruct } from './struct-codec.js';
import { encodeJwtBundles, encodeJwtSvid } from './wire-codec.js';

type UnaryHandler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** Runs an async unary handler, answering with its result or with the status its error maps to. */
function unary<Req, Res>(fn: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): UnaryHandler<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };
}

/**
 * `FetchJWTSVID` (Workload API spec §6.2.1): JWT-SVIDs for the requested audience, one per identity the
 * caller is entitled to, or only the one named by `spiffe_id`.
 *
 * InvalidArgument when `audience` is empty (or has an empty value) or `spiffe_id` is not a SPIFFE ID
 * (§4.5); PermissionDenied when the caller has no identity or is not entitled to `spiffe_id`.
 */
export function fetchJwtSvid(
  deps: WorkloadHandlerDeps,
): UnaryHandler<JwtSvidRequestMessage, JwtSvidResponseMessage> {
  return unary(async (call) => {
    const caller = await attestCaller(call, deps);
    const { audience, spiffe_id: requested } = call.request;
    if (audience.length === 0 || audience.some((a) => a.length === 0)) {
      throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'audience must be specified');
    }
    const identities = selectIdentities(requireIdentity(caller), requested);
    const now = deps.clock.now();
    const ttl = deps.jwtSvidTtlSeconds === undefined ? {} : { ttlSeconds: deps.jwtSvidTtlSeconds };
    const svids = await Promise.all(
      identities.map((identity) => deps.issuer.mintJwtSvid({ id: identity.spiffeId, now, audience, ...ttl })),
    );
    return { svids: svids.map((svid, i) => encodeJwtSvid({ ...svid, hint: identities[i]?.hint })) };
  });
}

/** The identities to mint for: all, or the one requested — which must be among them. */
function selectIdentities(
  entitled: readonly WorkloadIdentity[],
  requested: string,
): readonly WorkloadIdentity[] {
  if (requested === '') return entitled;
  const id = SpiffeId.parse(requested);
  const match = entitled.filter((identity) => identity.spiffeId.equals(id));
  // "Not entitled" and "no such identity" are the same answer (EXAMPLES.md "Errors").
  if (match.length === 0) throw new SpiffeError('SPIFFE_WORKLOAD_NO_IDENTITY');
  return match;
}

/**
 * `FetchJWTBundles` (§6.2.2): streams the JWT bundles (JWK Sets keyed by trust domain SPIFFE ID) of the
 * local and federated trust domains, pushing again when they change.
 */
export function fetchJwtBundles(
  deps: WorkloadHandlerDeps,
): (call: ServerWritableStream<unknown, JwtBundlesResponseMessage>) => void {
  return (call) => serveBundleStream(call, deps, (bundles) => ({ bundles: encodeJwtBundles(bundles) }));
}

/**
 * `ValidateJWTSVID` (§6.2.3): validates the token per the JWT-SVID spec against the served bundles
 * (the key is looked up in the bundle of the token's own trust domain) and returns its SPIFFE ID and
 * claims. InvalidArgument when `audience` or `svid` is empty, or when the token does not validate.
 */
export function validateJwtSvid(
  deps: WorkloadHandlerDeps,
): UnaryHandler<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage> {
  return unary(async (call) => {
    requireVerifier(await attestCaller(call, deps), deps);
    const { audience, svid } = call.request;
    if (audience === '') throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'audience must be specified');
    if (svid === '') throw new SpiffeError('SPIFFE_WORKLOAD_BAD_ARGUMENT', 'svid must be specified');
    const source = new BundleSet(deps.feed.bundles());
    const result = await verifyJwtSvid(svid, source, { now: deps.clock.now(), audience });
    return { spiffe_id: result.id.toString(), claims: toStruct(result.claims) };
  });
}
