/**
 * The `taskpass.v1.Broker` service definition, loaded at run time from `proto/taskpass/v1/broker.proto`
 * with @grpc/proto-loader, and the request shapes the handlers receive.
 *
 * @packageDocumentation
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir, type StructMessage } from '../../../spiffe/workload-api/proto.js';
import { BrokerError } from '../../errors.js';

/** The proto file, relative to the package's `proto/` directory. */
export const BROKER_PROTO_FILE = 'taskpass/v1/broker.proto';

/** The fully-qualified service name. */
export const BROKER_SERVICE_NAME = 'taskpass.v1.Broker';

/**
 * Loader options, shared by the server and by clients written with this package. `defaults: false`
 * leaves absent fields `undefined`, so `optional` fields keep their presence (an explicit `""` is
 * present and validated, not mistaken for "not given"); `longs: Number` because every 64-bit field
 * here (sequence numbers, epoch seconds) stays far below 2^53.
 */
export const BROKER_PROTO_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
});

// Request shapes as decoded with BROKER_PROTO_OPTIONS: snake_case, every field possibly absent
// (a proto3 string or number that was not sent, or sent empty, is undefined).

/** `Intent`. */
export interface IntentMessage {
  name?: string;
  text?: string;
}

/** `ManifestEntry`. */
export interface ManifestEntryMessage {
  provider?: string;
  scopes?: string[];
}

/** `StartTaskRequest`. */
export interface StartTaskRequest {
  intent?: IntentMessage;
  manifest?: ManifestEntryMessage[];
  ttl_seconds?: number;
  parent_task_id?: string;
}

/** `GetTaskRequest`, `CompleteTaskRequest`. */
export interface TaskIdRequest {
  id?: string;
}

/** `FailTaskRequest`. */
export interface FailTaskRequest extends TaskIdRequest {
  reason?: string;
}

/** `IssueCredentialRequest`. */
export interface IssueCredentialRequest {
  task_id?: string;
  provider?: string;
  scopes?: string[];
  ttl_seconds?: number;
}

/** `ListTasksRequest`. */
export interface ListTasksRequest {
  workload?: string;
  status?: string;
  cursor?: string;
  limit?: number;
}

/** `RevocationSelector`. */
export interface RevocationSelectorMessage {
  spiffe_id_prefix?: string;
  spiffe_id_glob?: string;
  trust_domain?: string;
  provider?: string;
  started_before?: string;
}

/** `RevokeRequest`: `target` names the member of the oneof that is set. */
export interface RevokeRequest {
  target?: 'credential_id' | 'task_id' | 'workload' | 'selector';
  credential_id?: string;
  task_id?: string;
  workload?: string;
  selector?: RevocationSelectorMessage;
  reason?: string;
  confirm?: boolean;
}

/** `QuarantineRequest`, `LiftQuarantineRequest`. */
export interface QuarantineRequest {
  workload?: string;
  reason?: string;
}

/** `ListCredentialsRequest`. */
export interface ListCredentialsRequest {
  status?: string;
  task_id?: string;
  provider?: string;
  cursor?: string;
  limit?: number;
}

/** `RetryFailedRevocationsRequest`. */
export interface RetryFailedRevocationsRequest {
  credential_id?: string;
}

/** `IntrospectRequest`. */
export interface IntrospectRequest {
  token?: string;
  token_type_hint?: string;
}

/** `WatchRevocationsRequest`. */
export interface WatchRevocationsRequest {
  after_seq?: string;
}

/** `SignalSubject`: `subject` names the member of the oneof that is set. */
export interface SignalSubjectMessage {
  subject?: 'task_id' | 'workload';
  task_id?: string;
  workload?: string;
}

/** `SubmitSignalRequest`. */
export interface SubmitSignalRequest {
  kind?: string;
  severity?: string;
  subject?: SignalSubjectMessage;
  description?: string;
  evidence?: StructMessage;
  occurred_at?: string;
}

/** `DeliverSetRequest`. */
export interface DeliverSetRequest {
  set?: string;
}

/** `QueryAuditRequest`. */
export interface QueryAuditRequest {
  workload?: string;
  task_id?: string;
  credential_id?: string;
  provider?: string;
  types?: string[];
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** The loaded service: its definition (for servers) and a client constructor. */
export interface BrokerProto {
  readonly service: grpc.ServiceDefinition;
  readonly Client: grpc.ServiceClientConstructor;
}

/**
 * Loads `broker.proto` (the `proto/` directory is found as the Workload API's is: the nearest ancestor
 * holding it, so it works from the sources, `dist/` and any build directory).
 *
 * @throws {BrokerError} `BROKER_INTERNAL` when the proto cannot be found or parsed (a broken install).
 */
export function loadBrokerProto(protoDir?: string): BrokerProto {
  let definition: protoLoader.PackageDefinition;
  try {
    const dir = protoDir ?? findProtoDir();
    definition = protoLoader.loadSync(BROKER_PROTO_FILE, { ...BROKER_PROTO_OPTIONS, includeDirs: [dir] });
  } catch (err) {
    throw new BrokerError('BROKER_INTERNAL', `${join('proto', BROKER_PROTO_FILE)} did not load`, {
      cause: err,
    });
  }
  const v1 = (grpc.loadPackageDefinition(definition)['taskpass'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject;
  const Client = v1['Broker'] as grpc.ServiceClientConstructor;
  return { service: Client.service, Client };
}
