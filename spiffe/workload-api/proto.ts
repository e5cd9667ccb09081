import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SpiffeError } from '../errors.js';

/** The proto file, relative to the package's `proto/` directory. */
export const WORKLOAD_PROTO_FILE = 'spiffe/workload.proto';

/** The fully-qualified service name: the spec's proto has no package (go-spiffe, SPIRE agree). */
export const WORKLOAD_SERVICE_NAME = 'SpiffeWorkloadAPI';

/**
 * The security header every Workload API request carries (SPIFFE Workload Endpoint spec §5 / §6):
 * `workload.spiffe.io: true`. It proves the request was made on purpose by a local workload, not by a
 * browser or proxy tricked into talking to the socket.
 */
export const WORKLOAD_SECURITY_HEADER = 'workload.spiffe.io';

// Wire shapes as @grpc/proto-loader decodes them with `keepCase` and `defaults`: snake_case fields,
// bytes as Buffer, maps as plain objects, every field present.

/** `X509SVID` (Workload API spec §5.1). */
export interface X509SvidMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}

/** `X509SVIDResponse` (§5.1). */
export interface X509SvidResponseMessage {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}

/** `X509BundlesResponse` (§5.1). */
export interface X509BundlesResponseMessage {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}

/** `JWTSVIDRequest` (§6.1). */
export interface JwtSvidRequestMessage {
  audience: string[];
  spiffe_id: string;
}

/** `JWTSVID` (§6.1). */
export interface JwtSvidMessage {
  spiffe_id: string;
  svid: string;
  hint: string;
}

/** `JWTSVIDResponse` (§6.1). */
export interface JwtSvidResponseMessage {
  svids: JwtSvidMessage[];
}

/** `JWTBundlesResponse` (§6.1): JWK Set JSON by trust domain SPIFFE ID. */
export interface JwtBundlesResponseMessage {
  bundles: Record<string, Buffer>;
}

/** `ValidateJWTSVIDRequest` (§6.1). */
export interface ValidateJwtSvidRequestMessage {
  audience: string;
  svid: string;
}

/** `google.protobuf.Struct` as proto-loader represents it (see `struct-codec.ts`). */
export interface StructMessage {
  fields: Record<string, ValueMessage>;
}

/** `google.protobuf.Value`: exactly one of the kinds is set (`kind` names it when decoding). */
export interface ValueMessage {
  kind?: string;
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values: ValueMessage[] };
}

/** `ValidateJWTSVIDResponse` (§6.1). */
export interface ValidateJwtSvidResponseMessage {
  spiffe_id: string;
  claims: StructMessage | null;
}

/** The loaded service: its definition (for servers) and a client constructor. */
export interface WorkloadApiProto {
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
}

/**
 * The `proto/` directory of the taskpass package: the nearest ancestor of `fromDir` that holds
 * `proto/spiffe/workload.proto`. Walking up, rather than a fixed `../..`, finds it from `spiffe/` (ts
 * sources run by a loader), `dist/spiffe/` and any other build directory such as `.build/x/spiffe/`.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_UNAVAILABLE` when no ancestor has it (a broken install).
 */
export function findProtoDir(fromDir: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, WORKLOAD_PROTO_FILE)) && existsSync(join(dir, 'package.json'))) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'workload.proto not found');
    dir = parent;
  }
}

/**
 * Loads `workload.proto` at run time with @grpc/proto-loader. `google/protobuf/struct.proto` is one of
 * protobufjs's bundled well-known types, so no extra include directory is needed.
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_UNAVAILABLE` when the proto cannot be found or parsed.
 */
export function loadWorkloadApiProto(protoDir: string = findProtoDir()): WorkloadApiProto {
  let definition: protoLoader.PackageDefinition;
  try {
    definition = protoLoader.loadSync(WORKLOAD_PROTO_FILE, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [protoDir],
    });
  } catch (err) {
    throw new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE', 'workload.proto did not load', { cause: err });
  }
  const Client = grpc.loadPackageDefinition(definition)[
    WORKLOAD_SERVICE_NAME
  ] as grpc.ServiceClientConstructor;
  return { service: Client.service, Client };
}
