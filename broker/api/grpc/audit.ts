/**
 * Auditor RPCs: `QueryAudit` (ledger events oldest first, the HTTP API's filters and cursor) and
 * `VerifyAudit` (hash-chain verification). The {@link AuditPort} decides that the caller is an auditor.
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import type { AuditQuery, LedgerEventType } from '../../store/issuance-store.js';
import { LEDGER_EVENT_TYPES } from '../http/routes/audit.js';
import type { HttpPorts } from '../ports.js';
import { unary, type HandlerContext } from './handler.js';
import type { QueryAuditRequest } from './proto.js';
import * as v from './validate.js';
import { auditEventMessage, verifyMessage } from './views.js';

/** `QueryAuditRequest` → the store query. */
export function auditQuery(req: QueryAuditRequest): AuditQuery {
  const types = req.types ?? [];
  if (types.length > LEDGER_EVENT_TYPES.length) {
    throw v.invalid('types', `must have at most ${LEDGER_EVENT_TYPES.length} entries`);
  }
  const checked = types.map(
    (t, i) => v.optionalOneOf(t, LEDGER_EVENT_TYPES, `types[${i}]`) as LedgerEventType,
  );
  const q = {
    workload: v.optionalSpiffeId(req.workload, 'workload'),
    taskId: v.optionalUuid(req.task_id, 'task_id'),
    credentialId: v.optionalUuid(req.credential_id, 'credential_id'),
    provider: v.optionalName(req.provider, 'provider'),
    types: checked.length > 0 ? checked : undefined,
    from: v.optionalDateTime(req.from, 'from'),
    to: v.optionalDateTime(req.to, 'to'),
    cursor: v.cursor(req.cursor),
    limit: v.pageLimit(req.limit),
  };
  // Only the filters given: the store treats a present-but-undefined member as given.
  return Object.fromEntries(Object.entries(q).filter(([, value]) => value !== undefined)) as AuditQuery;
}

/** The auditor RPCs of the Broker service. */
export function auditHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    QueryAudit: unary(ctx, async (caller, req: QueryAuditRequest) => {
      const page = await ports.audit.query(caller, auditQuery(req));
      return { events: page.items.map(auditEventMessage), next_cursor: page.nextCursor };
    }),
    VerifyAudit: unary(ctx, async (caller) => verifyMessage(await ports.audit.verify(caller))),
  };
}
