import type { Credential } from '../../domain/credential.js';
import type { Task } from '../../domain/task.js';
import type { LedgerEvent } from '../../store/issuance-store.js';

/** A task on the wire: snake_case names, RFC 3339 times (RFC 3339 §5.6), the SPIFFE ID as a string. */
export function taskView(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    workload: task.workload.toString(),
    intent: { name: task.intent.name, text: task.intent.text },
    manifest: task.manifest.map((entry) => ({ provider: entry.provider, scopes: [...entry.scopes] })),
    status: task.status,
    created_at: task.createdAt.toISOString(),
    deadline: task.deadline.toISOString(),
    parent_task_id: task.parent,
  };
}

/** A credential record on the wire (the secret travels separately, once). */
export function credentialView(credential: Credential): Record<string, unknown> {
  return {
    id: credential.id,
    task_id: credential.taskId,
    provider: credential.provider,
    scopes: [...credential.scopes],
    issued_at: credential.issuedAt.toISOString(),
    expires_at: credential.expiresAt.toISOString(),
    revocability: credential.revocability,
    status: credential.status,
  };
}

/** A ledger event on the wire; also the column order of the CSV export. */
export type EventView = {
  readonly seq: number;
  readonly occurred_at: string;
  readonly type: string;
  readonly workload: string | null;
  readonly task_id: string | null;
  readonly credential_id: string | null;
  readonly provider: string | null;
  readonly decision: string | null;
  readonly reason: string | null;
  readonly rule: string | null;
  readonly chain_pos: number | null;
  readonly hash: string | null;
  readonly details: Readonly<Record<string, unknown>>;
};

/** A ledger event on the wire. */
export function eventView(event: LedgerEvent): EventView {
  return {
    seq: event.seq,
    occurred_at: event.occurredAt.toISOString(),
    type: event.type,
    workload: event.workload?.toString() ?? null,
    task_id: event.taskId,
    credential_id: event.credentialId,
    provider: event.provider,
    decision: event.decision,
    reason: event.reason,
    rule: event.rule,
    chain_pos: event.chainPos,
    hash: event.hash,
    details: event.details,
  };
}
