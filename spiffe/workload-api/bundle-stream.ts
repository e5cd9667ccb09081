import type { ServerWritableStream } from '@grpc/grpc-js';
import type { SpiffeBundle } from '../bundle.js';
import { attestCaller, requireVerifier } from './caller.js';
import type { WorkloadHandlerDeps } from './handler-deps.js';
import { servePushStream } from './push-stream.js';

/**
 * Serves a bundle stream (`FetchX509Bundles` §5.2.2, `FetchJWTBundles` §6.2.2): attests the caller,
 * which must be allowed to verify, then sends the local and federated bundles encoded by `encode`,
 * and again whenever they change.
 */
export function serveBundleStream<T>(
  call: ServerWritableStream<unknown, T>,
  deps: WorkloadHandlerDeps,
  encode: (bundles: readonly SpiffeBundle[]) => T,
): void {
  servePushStream(
    call,
    async () => {
      requireVerifier(await attestCaller(call, deps), deps);
      const bundles = deps.feed.bundles();
      return { message: encode(bundles), parts: [bundles] };
    },
    deps,
  );
}
