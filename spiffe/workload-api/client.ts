import * as grpc from '@grpc/grpc-js';
import { SpiffeBundle } from '../bundle.js';
import { BundleSet } from '../bundle-set.js';
import type { Clock } from '../clock.js';
import { SpiffeError } from '../errors.js';
import { parseDerCertificates } from '../pem.js';
import { SpiffeId } from '../spiffe-id.js';
import type { JwtSvid, X509Svid } from '../svid.js';
import { grpcTarget, parseEndpointAddress } from './endpoint-address.js';
import { fromGrpcError } from './grpc-status.js';
import {
  loadWorkloadApiProto,
  WORKLOAD_SECURITY_HEADER,
  type JwtBundlesResponseMessage,
  type JwtSvidResponseMessage,
  type ValidateJwtSvidResponseMessage,
  type X509BundlesResponseMessage,
  type X509SvidResponseMessage,
} from './proto.js';
import { DEFAULT_BACKOFF, firstMessage, watchStream, type Backoff, type Watch } from './stream-watch.js';
import { fromStruct, type JsonValue } from './struct-codec.js';
import { schedule, systemTimers, type Timers } from './timers.js';
import { decodeJwtBundles, decodeJwtSvid, decodeX509Bundles, decodeX509Svid } from './wire-codec.js';

/** The X.509 view of a workload (go-spiffe's `X509Context`): its SVIDs and the bundles to trust. */
export interface X509Context {
  /** One or more; the first is the default identity (Workload API spec §5.3). */
  readonly svids: readonly X509Svid[];
  /** X.509 bundles of the SVIDs' trust domain and of federated ones (§4.6). */
  readonly bundles: BundleSet;
  /** When this context arrived, per the client's clock. */
  readonly receivedAt: Date;
}

/** The result of {@link WorkloadApiClient.validateJwtSvid}. */
export interface ValidatedJwtSvid {
  readonly id: SpiffeId;
  readonly claims: Readonly<Record<string, JsonValue>>;
}

/** A client of one Workload API endpoint (a SPIRE agent, or taskpass's own server). */
export interface WorkloadApiClient {
  /** The current X.509 context (one read of `FetchX509SVID`, §5.2.1). */
  fetchX509Context(): Promise<X509Context>;
  /** Keeps an X.509 context current: `onUpdate` on every push, `onError` on failures; reconnects with backoff. */
  watchX509Context(onUpdate: (context: X509Context) => void, onError: (err: SpiffeError) => void): Watch;
  /** The current X.509 bundles (`FetchX509Bundles`, §5.2.2). */
  fetchX509Bundles(): Promise<BundleSet>;
  /** The default JWT-SVID for `audience`, or the one of `spiffeId` (`FetchJWTSVID`, §6.2.1). */
  fetchJwtSvid(request: JwtSvidRequest): Promise<JwtSvid>;
  /** Every JWT-SVID the caller is entitled to for `audience` (or only `spiffeId`'s). */
  fetchJwtSvids(request: JwtSvidRequest): Promise<JwtSvid[]>;
  /** The current JWT bundles (`FetchJWTBundles`, §6.2.2). */
  fetchJwtBundles(): Promise<BundleSet>;
  /** Keeps the JWT bundles current, like {@link WorkloadApiClient.watchX509Context}. */
  watchJwtBundles(onUpdate: (bundles: BundleSet) => void, onError: (err: SpiffeError) => void): Watch;
  /** Has the endpoint validate `token` for `audience` (`ValidateJWTSVID`, §6.2.3). */
  validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid>;
  /** Closes the channel; watches end. */
  close(): void;
}

/** The request of {@link WorkloadApiClient.fetchJwtSvid}. */
export interface JwtSvidRequest {
  audience: string | readonly string[];
  spiffeId?: SpiffeId;
}

/** Options of {@link createWorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /**
   * The endpoint: `unix:///abs/path`, `tcp://IP:port` or an absolute socket path — typically the value
   * of `SPIFFE_ENDPOINT_SOCKET`, which the caller reads; the client never reads the environment.
   */
  socketPath: string;
  clock: Clock;
  /** Timer seam for reconnect backoff and call timeouts; real timers by default. */
  timers?: Timers;
  backoff?: Backoff;
  /** How long a single fetch or unary call may take; default 30 s. */
  timeoutMs?: number;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/** The generated client's methods, as the service definition declares them. */
interface RawClient extends grpc.Client {
  FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<X509SvidResponseMessage>;
  FetchX509Bundles(
    request: object,
    metadata: grpc.Metadata,
  ): grpc.ClientReadableStream<X509BundlesResponseMessage>;
  FetchJWTBundles(
    request: object,
    metadata: grpc.Metadata,
  ): grpc.ClientReadableStream<JwtBundlesResponseMessage>;
  FetchJWTSVID(
    request: object,
    metadata: grpc.Metadata,
    callback: Callback<JwtSvidResponseMessage>,
  ): grpc.ClientUnaryCall;
  ValidateJWTSVID(
    request: object,
    metadata: grpc.Metadata,
    callback: Callback<ValidateJwtSvidResponseMessage>,
  ): grpc.ClientUnaryCall;
}

/** Metadata with the security header every Workload API request carries (Workload Endpoint spec §5). */
function metadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(WORKLOAD_SECURITY_HEADER, 'true');
  return md;
}

const decodeJwt = (m: JwtBundlesResponseMessage): BundleSet => new BundleSet(decodeJwtBundles(m.bundles));
const decodeX509 = (m: X509BundlesResponseMessage): BundleSet => new BundleSet(decodeX509Bundles(m.bundles));

/** A unary call as a promise, cancelled after `timeoutMs`; errors become `SPIFFE_WORKLOAD_*` codes. */
function unaryCall<T>(
  invoke: (cb: Callback<T>) => grpc.ClientUnaryCall,
  timers: Timers,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let call: grpc.ClientUnaryCall | undefined;
    const timer = schedule(timers, () => call?.cancel(), timeoutMs);
    try {
      call = invoke((err, value) => {
        timer.cancel();
        if (err || value === undefined) reject(fromGrpcError(err));
        else resolve(value);
      });
    } catch (err) {
      // A closed channel throws instead of failing the call.
      timer.cancel();
      reject(fromGrpcError(err));
    }
  });
}

/**
 * Creates a Workload API client (Workload API spec §4, go-spiffe v2's `workloadapi.Client`). Every call
 * carries the `workload.spiffe.io: true` header; responses are checked as they enter (§4.5) and gRPC
 * statuses become `SPIFFE_WORKLOAD_*` codes: InvalidArgument → `SPIFFE_WORKLOAD_BAD_ARGUMENT`,
 * PermissionDenied → `SPIFFE_WORKLOAD_NO_IDENTITY`, anything else → `SPIFFE_WORKLOAD_UNAVAILABLE`; a
 * malformed response → `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_ARGUMENT` for an unusable `socketPath`.
 */
export function createWorkloadApiClient(opts: WorkloadApiClientOptions): WorkloadApiClient {
  const target = grpcTarget(parseEndpointAddress(opts.socketPath));
  const { Client } = loadWorkloadApiProto();
  const raw = new Client(target, grpc.credentials.createInsecure()) as unknown as RawClient;
  const timers = opts.timers ?? systemTimers;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const decodeContext = (m: X509SvidResponseMessage): X509Context => decodeX509Context(m, opts.clock.now());
  const unary = <T>(invoke: (cb: Callback<T>) => grpc.ClientUnaryCall): Promise<T> =>
    unaryCall(invoke, timers, timeoutMs);
  const watches = new Set<Watch>();
  const track = (w: Watch): Watch => {
    watches.add(w);
    return { stop: () => (w.stop(), watches.delete(w)) };
  };
  const watch =
    <M, V>(open: () => grpc.ClientReadableStream<M>, decode: (m: M) => V) =>
    (onUpdate: (value: V) => void, onError: (err: SpiffeError) => void): Watch =>
      track(watchStream({ open, decode, onUpdate, onError, timers, backoff }));
  const fetchJwtSvids = async (request: JwtSvidRequest): Promise<JwtSvid[]> => {
    const audience = typeof request.audience === 'string' ? [request.audience] : [...request.audience];
    const message = { audience, spiffe_id: request.spiffeId?.toString() ?? '' };
    const res = await unary<JwtSvidResponseMessage>((cb) => raw.FetchJWTSVID(message, metadata(), cb));
    if (res.svids.length === 0)
      throw new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', 'no jwt svid in the response');
    return res.svids.map(decodeJwtSvid);
  };

  return {
    fetchX509Context: () =>
      firstMessage(() => raw.FetchX509SVID({}, metadata()), decodeContext, timers, timeoutMs),
    watchX509Context: watch(() => raw.FetchX509SVID({}, metadata()), decodeContext),
    fetchX509Bundles: () =>
      firstMessage(() => raw.FetchX509Bundles({}, metadata()), decodeX509, timers, timeoutMs),
    fetchJwtSvid: async (request) => (await fetchJwtSvids(request))[0] as JwtSvid,
    fetchJwtSvids,
    fetchJwtBundles: () =>
      firstMessage(() => raw.FetchJWTBundles({}, metadata()), decodeJwt, timers, timeoutMs),
    watchJwtBundles: watch(() => raw.FetchJWTBundles({}, metadata()), decodeJwt),
    async validateJwtSvid(token, audience) {
      const res = await unary<ValidateJwtSvidResponseMessage>((cb) =>
        raw.ValidateJWTSVID({ audience, svid: token }, metadata(), cb),
      );
      return Object.freeze({
        id: parseResponseId(res.spiffe_id),
        claims: Object.freeze(fromStruct(res.claims)),
      });
    },
    close() {
      // Watches first: a stopped watch never reconnects through the closed channel.
      for (const w of watches) w.stop();
      watches.clear();
      raw.close();
    },
  };
}

/**
 * Decodes an `X509SVIDResponse` (§5.1): at least one SVID (mandatory, §4.5); each SVID's `bundle` is
 * its trust domain's X.509 bundle, `federated_bundles` the others'.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_RESPONSE`.
 */
export function decodeX509Context(message: X509SvidResponseMessage, receivedAt: Date): X509Context {
  if (message.svids.length === 0)
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', 'no x509 svid in the response');
  const svids = message.svids.map(decodeX509Svid);
  const bundles = new BundleSet(decodeX509Bundles(message.federated_bundles));
  message.svids.forEach((m, i) => {
    const trustDomain = (svids[i] as X509Svid).id.trustDomain;
    let x509Authorities;
    try {
      x509Authorities = parseDerCertificates(m.bundle);
    } catch (err) {
      throw new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', `unparsable x509 bundle of ${trustDomain.name}`, {
        cause: err,
      });
    }
    bundles.add(new SpiffeBundle({ trustDomain, x509Authorities }));
  });
  return Object.freeze({ svids: Object.freeze(svids), bundles, receivedAt });
}

function parseResponseId(value: string): SpiffeId {
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_RESPONSE', 'invalid spiffe id', { cause: err });
  }
}
