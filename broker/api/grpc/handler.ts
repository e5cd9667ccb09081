/**
 * The one wrapper every Broker RPC goes through (the gRPC counterpart of the HTTP API's
 * `requireCaller` preHandler and single error handler): authenticate the call, run the handler,
 * and map any refusal through the one status table ({@link toGrpcError}).
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Certificate } from '../../../spiffe/bundle.js';
import { BrokerError } from '../../errors.js';
import { authFactsFrom } from '../auth-facts.js';
import type { Authenticate, Caller } from '../ports.js';
import { toGrpcError } from './status.js';

/** The metadata key of the bearer JWT-SVID (gRPC metadata keys are lower case). */
export const AUTHORIZATION_METADATA = 'authorization';

/** What the wrappers need from the server. */
export interface HandlerContext {
  readonly authenticate: Authenticate;
  /** The TLS peer chain of the connection `peer` (`call.getPeer()`) names; empty on the Unix socket. */
  readonly chainOf: (peer: string) => readonly Certificate[];
  /** The real address of the connection `peer` names, for logs. */
  readonly remoteOf: (peer: string) => string | undefined;
  readonly logger: Logger;
  /** Closers of the open server streams, run by the server's `stop()`. */
  readonly openStreams: Set<() => void>;
}

/** The part of a server call authentication reads. */
interface IncomingCall {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
  getPath(): string;
}

/**
 * Authenticates a call: the `authorization: Bearer <JWT-SVID>` metadata when present, otherwise the
 * X509-SVID chain the TLS peer presented (TCP listener only), verified by the `Authenticate` port.
 *
 * @throws {BrokerError} `BROKER_AUTH_MISSING`, `BROKER_AUTH_INVALID`.
 */
export async function authenticateCall(ctx: HandlerContext, call: IncomingCall): Promise<Caller> {
  const values = call.metadata.get(AUTHORIZATION_METADATA).map((v) => (typeof v === 'string' ? v : ''));
  const facts = authFactsFrom(values, values.length === 0 ? ctx.chainOf(call.getPeer()) : []);
  const caller = await ctx.authenticate(facts);
  ctx.logger.debug(
    { method: call.getPath(), spiffe_id: caller.id.toString(), via: caller.via },
    'caller authenticated',
  );
  return caller;
}

/** Maps `err` to its status and logs it as the HTTP layer does (error object only for our failures). */
export function refusal(ctx: HandlerContext, call: IncomingCall, err: unknown): grpc.StatusObject {
  const view = toGrpcError(err);
  const fields = {
    method: call.getPath(),
    peer: ctx.remoteOf(call.getPeer()),
    error_code: view.code,
    grpc_code: view.status.code,
  };
  if (view.internal) ctx.logger.error({ ...fields, err }, 'call failed');
  else ctx.logger.info(fields, 'call refused');
  return view.status as grpc.StatusObject;
}

/** A unary RPC: `fn` receives the authenticated caller and the decoded request. */
export function unary<Req, Res>(
  ctx: HandlerContext,
  fn: (caller: Caller, request: Req) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    authenticateCall(ctx, call)
      .then((caller) => fn(caller, call.request))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(refusal(ctx, call, err)),
      );
  };
}

/** Where a server-streaming handler writes, and how it ends the call with an error. */
export interface StreamSink<Res> {
  write(message: Res): void;
  fail(err: unknown): void;
}

/**
 * A server-streaming RPC that stays open until the client cancels it (or the server stops): `fn`
 * subscribes and returns its unsubscribe, which runs exactly once however the call ends. A stream
 * that ends because the server stops ends UNAVAILABLE (`BROKER_GRPC_SHUTTING_DOWN`): the client
 * reconnects, to this replica or another, and resumes where it was.
 */
export function serverStream<Req, Res>(
  ctx: HandlerContext,
  fn: (caller: Caller, request: Req, sink: StreamSink<Res>) => Promise<() => void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    let ended = false;
    let unsubscribe: (() => void) | undefined;
    const cleanup = (): void => {
      if (ended) return;
      ended = true;
      ctx.openStreams.delete(shutdown);
      unsubscribe?.();
    };
    const sink: StreamSink<Res> = {
      write: (message) => {
        if (!ended) call.write(message);
      },
      fail: (err) => {
        if (ended) return;
        cleanup();
        call.emit('error', refusal(ctx, call, err));
      },
    };
    function shutdown(): void {
      sink.fail(new BrokerError('BROKER_GRPC_SHUTTING_DOWN'));
    }
    ctx.openStreams.add(shutdown);
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
    authenticateCall(ctx, call)
      .then((caller) => fn(caller, call.request, sink))
      .then(
        (unsub) => {
          // The call may have ended while subscribing: unsubscribe at once then.
          if (ended) unsub();
          else unsubscribe = unsub;
        },
        (err: unknown) => sink.fail(err),
      );
  };
}
