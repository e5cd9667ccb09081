// Shared set-up of the Workload API suites: an in-process server on a temporary Unix socket, and a raw
// gRPC client of the standard service so the tests see exactly what a go-spiffe client would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { loadWorkloadApiProto, WORKLOAD_SECURITY_HEADER } from '../../../spiffe/workload-api/proto.js';
import { createRegistrations, type Registrations } from '../../../spiffe/workload-api/registrations.js';
import {
  createWorkloadApiServer,
  type WorkloadApiServer,
  type WorkloadApiServerOptions,
} from '../../../spiffe/workload-api/server.js';
import type { SvidIssuer } from '../../../spiffe/workload-api/svid-issuer.js';
import { FakeClock } from '../../fakes/fake-clock.js';

export const TD = 'example.org';
export const id = (path: string): SpiffeId => SpiffeId.parse(`spiffe://${TD}${path}`);
export const myUid = (): number => process.getuid?.() ?? 0;
export const myGid = (): number => process.getgid?.() ?? 0;

/** Registrations for the given entries (selectors by uid/gid) and optional default. */
export function registrations(
  entries: { path: string; uid?: number; gid?: number; hint?: string }[],
  def?: string,
): Registrations {
  return createRegistrations({
    entries: entries.map((e) => ({
      spiffeId: id(e.path),
      selectors: {
        ...(e.uid !== undefined ? { uid: e.uid } : {}),
        ...(e.gid !== undefined ? { gid: e.gid } : {}),
      },
      ...(e.hint ? { hint: e.hint } : {}),
    })),
    ...(def ? { default: { spiffeId: id(def) } } : {}),
  });
}

/** A Workload API server on a fresh temporary socket, plus helpers; `close()` removes everything. */
export interface Harness {
  server: WorkloadApiServer;
  clock: FakeClock;
  dir: string;
  client: RawClient;
  close(): Promise<void>;
}

type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;
/** The generated client, untyped: tests inspect raw wire messages. */
export type RawClient = grpc.Client &
  Record<
    string,
    (
      req: object,
      md: grpc.Metadata,
      cb?: Callback,
    ) => grpc.ClientReadableStream<unknown> | grpc.ClientUnaryCall
  >;

/** Starts a server; `clock` drives both time and rotation timers. */
export async function startHarness(
  opts: {
    issuer: SvidIssuer;
    registrations: Registrations;
    clock?: FakeClock;
  } & Partial<WorkloadApiServerOptions>,
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'taskpass-wl-'));
  const clock = opts.clock ?? new FakeClock();
  const server = createWorkloadApiServer({
    socketPath: `unix://${join(dir, 'agent.sock')}`,
    clock,
    timers: clock,
    ...opts,
  });
  await server.start();
  const client = rawClient(server.address);
  return {
    server,
    clock,
    dir,
    client,
    async close() {
      client.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw client of the standard service at `address`. */
export function rawClient(address: string): RawClient {
  const { Client } = loadWorkloadApiProto();
  return new Client(address, grpc.credentials.createInsecure()) as unknown as RawClient;
}

/** Metadata with the security header (or without, when `withHeader` is false). */
export function md(withHeader = true): grpc.Metadata {
  const m = new grpc.Metadata();
  if (withHeader) m.set(WORKLOAD_SECURITY_HEADER, 'true');
  return m;
}

/** Calls a unary method; resolves with the response or rejects with the ServiceError. */
export function unary<T>(client: RawClient, method: string, request: object, metadata = md()): Promise<T> {
  return new Promise((resolve, reject) => {
    (client[method] as (r: object, m: grpc.Metadata, cb: Callback) => void)(
      request,
      metadata,
      (err, value) => (err ? reject(err) : resolve(value as T)),
    );
  });
}

/** The gRPC status code a call fails with (the test fails if it succeeds). */
export async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
  throw new Error('expected the call to fail');
}

/** Reads a server stream message by message. */
export interface StreamReader<T> {
  next(timeoutMs?: number): Promise<T>;
  /** Messages received and not yet read. */
  readonly buffered: number;
  cancel(): void;
}

/** Opens a server-streaming method and returns a reader. */
export function openStream<T>(client: RawClient, method: string, metadata = md()): StreamReader<T> {
  const stream = (client[method] as (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<T>)(
    {},
    metadata,
  );
  const queue: T[] = [];
  const waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  let failure: unknown;
  stream.on('data', (m: T) => {
    const w = waiters.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  });
  stream.on('error', (err: unknown) => {
    failure = err;
    for (const w of waiters.splice(0)) w.reject(err);
  });
  return {
    next(timeoutMs = 5000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (failure) return Promise.reject(failure);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no stream message in time')), timeoutMs);
        waiters.push({
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
      });
    },
    get buffered() {
      return queue.length;
    },
    cancel: () => stream.cancel(),
  };
}

/** Lets pending I/O and promise chains run (a few event-loop turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
