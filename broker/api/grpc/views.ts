/**
 * Response messages of the Broker service. Tasks, credentials and ledger events reuse the HTTP API's
 * wire views (`../http/views.ts`), so both transports show the same names and values (RFC 3339
 * times, SPIFFE IDs as strings); a `null` there is an absent field here (protobuf has no null).
 *
 * @packageDocumentation
 */
import { toStruct } from '../../../spiffe/workload-api/struct-codec.js';
import type { ChainBroken, ChainOk } from '../../ledger/hash-chain.js';
import type { LedgerEvent } from '../../store/issuance-store.js';
import { eventView } from '../http/views.js';
import type {
  IntrospectionResponse,
  QuarantineView,
  RevocationFeedEvent,
  RevocationResult,
} from '../ports.js';

export { credentialView, taskView } from '../http/views.js';

/** `AuditEvent`: the HTTP event view, with `details` as a `google.protobuf.Struct`. */
export function auditEventMessage(event: LedgerEvent): Record<string, unknown> {
  const view = eventView(event);
  return { ...view, details: toStruct(view.details as Record<string, unknown>) };
}

/** `VerifyAuditResponse`. */
export function verifyMessage(r: ChainOk | ChainBroken): Record<string, unknown> {
  return r.ok
    ? {
        ok: true,
        events: r.events,
        sealed_through: r.sealedThrough,
        head_hash: r.headHash,
        unsealed: r.unsealed,
      }
    : { ok: false, events: r.events, first_bad_seq: r.firstBadSeq, kind: r.kind, reason: r.reason };
}

/** `IntrospectResponse`: RFC 7662 members; `aud` always a list. */
export function introspectionMessage(r: IntrospectionResponse): Record<string, unknown> {
  if (!r.active) return { active: false };
  const { aud, ...rest } = r;
  return { ...rest, ...(aud !== undefined && { aud: typeof aud === 'string' ? [aud] : [...aud] }) };
}

/** `RevokeResponse`. */
export function revocationMessage(r: RevocationResult): Record<string, unknown> {
  return {
    revocation_id: r.revocationId,
    tasks: [...r.tasks],
    credentials: r.credentials.map((c) => ({
      id: c.id,
      task_id: c.taskId,
      provider: c.provider,
      outcome: c.outcome,
      expires_at: c.expiresAt.toISOString(),
    })),
    counts: { revoked: r.counts.revoked, pending: r.counts.pending, not_revocable: r.counts.notRevocable },
    exposed_until: r.exposedUntil?.toISOString() ?? null,
  };
}

/** `QuarantineEntry`. */
export function quarantineMessage(q: QuarantineView): Record<string, unknown> {
  return { workload: q.workload.toString(), reason: q.reason, since: q.since.toISOString(), by: q.by };
}

/**
 * `RevocationEvent`: the feed's event member by member (its `null`s become absent fields); the
 * `satisfies` makes a member added to the port a compile error here until the proto carries it.
 */
export function revocationEventMessage(e: RevocationFeedEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    type: e.type,
    occurred_at: e.occurred_at,
    task_id: e.task_id,
    credential_id: e.credential_id,
    workload: e.workload,
    provider: e.provider,
    jti: e.jti,
    expires_at: e.expires_at,
  } satisfies Record<keyof RevocationFeedEvent, unknown>;
}
