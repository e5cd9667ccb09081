import type { ServerWritableStream } from '@grpc/grpc-js';
import type { SpiffeBundle } from '../bundle.js';
import type { TrustDomain } from '../trust-domain.js';
import { attestCaller, requireIdentity } from './caller.js';
import { serveBundleStream } from './bundle-stream.js';
import type { WorkloadHandlerDeps } from './handler-deps.js';
import type { X509BundlesResponseMessage, X509SvidResponseMessage } from './proto.js';
import { servePushStream, type StreamSnapshot } from './push-stream.js';
import { encodeX509Bundles, encodeX509Svid } from './wire-codec.js';
import { rotationTime } from './x509-svid-cache.js';

type X509SvidCall = ServerWritableStream<unknown, X509SvidResponseMessage>;
type X509BundlesCall = ServerWritableStream<unknown, X509BundlesResponseMessage>;

/**
 * `FetchX509SVID` (Workload API spec §5.2.1): streams every X509-SVID the caller is entitled to — the
 * first is its default identity (§5.3) — each with its trust domain's bundle, plus the federated bundles
 * (§4.6). A new message is pushed when an SVID is rotated (half-way through its life) or the bundles
 * change. A caller with no identity gets PermissionDenied.
 */
export function fetchX509Svid(deps: WorkloadHandlerDeps): (call: X509SvidCall) => void {
  return (call) => servePushStream(call, () => composeX509Svids(call, deps), deps);
}

async function composeX509Svids(
  call: X509SvidCall,
  deps: WorkloadHandlerDeps,
): Promise<StreamSnapshot<X509SvidResponseMessage>> {
  const identities = requireIdentity(await attestCaller(call, deps));
  const svids = await Promise.all(identities.map((identity) => deps.svids.get(identity.spiffeId)));
  const bundles = deps.feed.bundles();
  const ownBundle = (td: TrustDomain): SpiffeBundle =>
    bundles.find((b) => b.trustDomain.equals(td)) ?? deps.issuer.bundle();
  const message: X509SvidResponseMessage = {
    svids: svids.map((svid, i) =>
      encodeX509Svid({ ...svid, hint: identities[i]?.hint }, ownBundle(svid.id.trustDomain)),
    ),
    crl: [],
    federated_bundles: encodeX509Bundles(
      bundles.filter((b) => !svids.some((s) => s.id.memberOf(b.trustDomain))),
    ),
  };
  const wakeAt = new Date(Math.min(...svids.map((svid) => rotationTime(svid).getTime())));
  return { message, parts: [...svids, bundles], wakeAt };
}

/**
 * `FetchX509Bundles` (§5.2.2): streams the X.509 bundles of the local and federated trust domains, and
 * pushes again when they change. A caller with no identity gets PermissionDenied unless unauthenticated
 * verifiers are allowed.
 */
export function fetchX509Bundles(deps: WorkloadHandlerDeps): (call: X509BundlesCall) => void {
  return (call) =>
    serveBundleStream(call, deps, (bundles) => ({ crl: [], bundles: encodeX509Bundles(bundles) }));
}
