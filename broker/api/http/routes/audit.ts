import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type { AuditQuery, LedgerEventType } from '../../../store/issuance-store.js';
import { callerOf, requireCaller } from '../authenticate.js';
import { toCsv } from '../csv.js';
import type { HttpPorts } from '../../ports.js';
import {
  callerSecurity,
  cursorSchema,
  errorResponses,
  idSchema,
  LIMITS,
  limitQuerySchema,
} from '../schemas.js';
import { eventView, type EventView } from '../views.js';

/** Every ledger event type (a filter value outside this list is a 400). */
export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = Object.freeze([
  'task.started',
  'task.denied',
  'task.completed',
  'task.failed',
  'task.expired',
  'task.revoked',
  'credential.issued',
  'credential.denied',
  'credential.revoked',
  'credential.revoke_failed',
  'signal.received',
  'signal.responded',
  'workload.quarantined',
  'workload.quarantine_lifted',
  'revocation.requested',
  'credential.expired',
  'credential.revocation_verified',
  'policy.reloaded',
]);

/** The CSV columns, in order (the JSON members of an event). */
export const AUDIT_CSV_COLUMNS: readonly (keyof EventView)[] = Object.freeze([
  'seq',
  'occurred_at',
  'type',
  'workload',
  'task_id',
  'credential_id',
  'provider',
  'decision',
  'reason',
  'rule',
  'chain_pos',
  'hash',
  'details',
]);

const typeSchema = { type: 'string', enum: LEDGER_EVENT_TYPES };
const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workload: { type: 'string', minLength: 1, maxLength: LIMITS.spiffeId },
    task_id: idSchema,
    credential_id: idSchema,
    provider: idSchema,
    type: { anyOf: [typeSchema, { type: 'array', maxItems: LEDGER_EVENT_TYPES.length, items: typeSchema }] },
    from: { type: 'string', format: 'date-time', maxLength: 64 },
    to: { type: 'string', format: 'date-time', maxLength: 64 },
    cursor: cursorSchema,
    limit: limitQuerySchema,
    format: { type: 'string', enum: ['json', 'csv'] },
  },
};

interface EventsQuery {
  workload?: string;
  task_id?: string;
  credential_id?: string;
  provider?: string;
  type?: LedgerEventType | LedgerEventType[];
  from?: string;
  to?: string;
  cursor?: string;
  limit?: string;
  format?: 'json' | 'csv';
}

/** The store query of a validated query string. */
function auditQueryOf(q: EventsQuery): AuditQuery {
  return {
    ...(q.workload !== undefined && { workload: SpiffeId.parse(q.workload) }),
    ...(q.task_id !== undefined && { taskId: q.task_id }),
    ...(q.credential_id !== undefined && { credentialId: q.credential_id }),
    ...(q.provider !== undefined && { provider: q.provider }),
    ...(q.type !== undefined && { types: Array.isArray(q.type) ? q.type : [q.type] }),
    ...(q.from !== undefined && { from: new Date(q.from) }),
    ...(q.to !== undefined && { to: new Date(q.to) }),
    ...(q.cursor !== undefined && { cursor: q.cursor }),
    ...(q.limit !== undefined && { limit: Number(q.limit) }),
  };
}

/** CSV when asked by `?format=csv`, or by `Accept: text/csv` without `?format=json`. */
function wantsCsv(request: FastifyRequest<{ Querystring: EventsQuery }>): boolean {
  if (request.query.format !== undefined) return request.query.format === 'csv';
  return /(^|[,\s])text\/csv(\s*(;|,|$))/i.test(request.headers.accept ?? '');
}

/** RFC 8288 `Link: <…>; rel="next"` for the next page: the same query with the new cursor. */
function nextLink(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, 'http://broker.invalid');
  url.searchParams.set('cursor', cursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}

const eventSchema = {
  type: 'object',
  properties: {
    // Every column is a nullable string except the three typed below.
    ...Object.fromEntries(AUDIT_CSV_COLUMNS.map((k) => [k, { type: ['string', 'null'] }])),
    seq: { type: 'integer' },
    chain_pos: { type: ['integer', 'null'] },
    details: { type: 'object', additionalProperties: true },
  },
};

const verifySchema = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    events: { type: 'integer' },
    sealed_through: { type: 'integer' },
    head_hash: { type: 'string' },
    unsealed: { type: 'integer' },
    first_bad_seq: { type: 'integer' },
    kind: { type: 'string' },
    reason: { type: 'string' },
  },
};

/**
 * Auditor routes: `GET /v1/audit/events` (filters, cursor pagination, JSON or CSV with a header row,
 * RFC 4180) and `GET /v1/audit/verify` (hash-chain verification naming the first bad event). The
 * {@link AuditPort} decides that the caller is an auditor. The next page is in `next_cursor` (JSON)
 * and in a `Link` header (both formats).
 */
export async function registerAuditRoutes(
  app: FastifyInstance,
  { ports }: { ports: HttpPorts },
): Promise<void> {
  app.addHook('preHandler', requireCaller(ports.authenticate));
  eventsRoute(app, ports);
  verifyRoute(app, ports);
}

const base = { tags: ['auditors'], security: callerSecurity };

/** `GET /v1/audit/events`. */
function eventsRoute(app: FastifyInstance, ports: HttpPorts): void {
  app.get<{ Querystring: EventsQuery }>(
    '/v1/audit/events',
    {
      schema: {
        ...base,
        summary: 'Query ledger events (oldest first); JSON, or CSV with Accept: text/csv or ?format=csv',
        querystring: eventsQuery,
        produces: ['application/json', 'text/csv'],
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array', items: eventSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const page = await ports.audit.query(callerOf(request), auditQueryOf(request.query));
      const events = page.items.map(eventView);
      if (page.nextCursor !== null) void reply.header('link', nextLink(request, page.nextCursor));
      if (!wantsCsv(request)) return { events, next_cursor: page.nextCursor };
      // Bypasses the JSON serializer on purpose: the body is text.
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .serializer((payload: unknown) => payload as string)
        .send(toCsv(AUDIT_CSV_COLUMNS, events));
    },
  );
}

/** `GET /v1/audit/verify`. */
function verifyRoute(app: FastifyInstance, ports: HttpPorts): void {
  app.get(
    '/v1/audit/verify',
    {
      schema: {
        ...base,
        summary: 'Verify the ledger hash chain',
        response: { 200: verifySchema, ...errorResponses },
      },
    },
    async (request) => {
      const r = await ports.audit.verify(callerOf(request));
      return r.ok
        ? {
            ok: true,
            events: r.events,
            sealed_through: r.sealedThrough,
            head_hash: r.headHash,
            unsealed: r.unsealed,
          }
        : { ok: false, events: r.events, first_bad_seq: r.firstBadSeq, kind: r.kind, reason: r.reason };
    },
  );
}
