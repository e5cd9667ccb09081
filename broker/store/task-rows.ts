import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type {
  CredentialRecord,
  CredentialStatus,
  ManifestEntry,
  Revocability,
  TaskRecord,
  TaskStatus,
} from './issuance-store.js';

/** The columns of `tasks`. */
export interface TaskRow {
  id: string;
  workload: string;
  intent_name: string;
  intent_text: string;
  manifest: ManifestEntry[];
  deadline: Date;
  parent_task_id: string | null;
  status: string;
  created_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  credentials_issued: number;
}

/** The columns of `credentials`. */
export interface CredentialRow {
  id: string;
  task_id: string;
  provider: string;
  scopes: string[];
  ttl_seconds: number;
  issued_at: Date;
  expires_at: Date;
  revocation_handle: JsonValue;
  secret_hash: string;
  revocability: string;
  status: string;
  revoked_at: Date | null;
}

/** Maps a `tasks` row to a {@link TaskRecord}, parsing the workload back into a `SpiffeId`. */
export function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    workload: SpiffeId.parse(row.workload),
    intent: { name: row.intent_name, text: row.intent_text },
    manifest: row.manifest,
    deadline: row.deadline,
    parent: row.parent_task_id,
    status: row.status as TaskStatus,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    credentialsIssued: Number(row.credentials_issued),
  };
}

/** Maps a `credentials` row to a {@link CredentialRecord}. */
export function toCredential(row: CredentialRow): CredentialRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    provider: row.provider,
    scopes: row.scopes,
    ttlSeconds: Number(row.ttl_seconds),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    revocationHandle: row.revocation_handle,
    secretHash: row.secret_hash,
    revocability: row.revocability as Revocability,
    status: row.status as CredentialStatus,
    revokedAt: row.revoked_at,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a textual UUID (any version), so malformed ids never reach a `uuid` cast. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
