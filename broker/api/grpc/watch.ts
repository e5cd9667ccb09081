/**
 * `WatchRevocations`: the revocation feed for resource servers as a server stream (the gRPC form of
 * `GET /v1/revocations/stream`). Retained events after `after_seq` come first, in ledger order, then
 * live ones as they commit on any replica, until the client cancels. The {@link RevocationFeedPort}
 * decides who may watch; a broker without the feed answers UNIMPLEMENTED (`BROKER_GRPC_UNIMPLEMENTED`).
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import { BrokerError } from '../../errors.js';
import type { HttpPorts } from '../ports.js';
import { serverStream, type HandlerContext } from './handler.js';
import type { WatchRevocationsRequest } from './proto.js';
import * as v from './validate.js';
import { revocationEventMessage } from './views.js';

/** A ledger sequence: a non-negative decimal integer (bigint in the ledger). */
const SEQ = /^(0|[1-9][0-9]{0,18})$/;

/** `after_seq`, or undefined. @throws {BrokerError} `BROKER_INPUT_INVALID`. */
export function afterSeq(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!SEQ.test(value)) throw v.invalid('after_seq', 'must be a non-negative integer');
  return value;
}

/** The `WatchRevocations` RPC of the Broker service. */
export function watchHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    WatchRevocations: serverStream(ctx, async (caller, req: WatchRevocationsRequest, sink) => {
      const feed = ports.revocationFeed;
      if (feed === undefined) {
        throw new BrokerError('BROKER_GRPC_UNIMPLEMENTED', 'the revocation feed is not available');
      }
      const after = afterSeq(req.after_seq);
      return feed.subscribe(
        caller,
        after === undefined ? {} : { afterSeq: after },
        (event) => sink.write(revocationEventMessage(event)),
        (err) => sink.fail(err),
      );
    }),
  };
}
