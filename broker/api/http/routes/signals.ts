import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../../errors.js';
import type {
  HttpPorts,
  QuarantineView,
  SignalAccepted,
  SignalSeverity,
  SignalSubmission,
} from '../../ports.js';
import { callerOf, requireCaller } from '../authenticate.js';
import { sendError } from '../error-handler.js';
import { revocationView } from './revocations.js';
import { isSetDelivery, SECEVENT_MEDIA_TYPE, sendSetError } from '../set-errors.js';
import { setBody, signalAcceptedSchema, signalBody, signalErrorSchema } from '../signal-schemas.js';
import { callerSecurity } from '../schemas.js';

interface SignalBody {
  kind: string;
  severity: SignalSeverity;
  subject: { task_id?: string; workload?: string };
  description?: string;
  evidence?: Record<string, unknown>;
  occurred_at?: string;
}

/** The port's submission of a validated body (the schema guarantees one subject member). */
function submissionOf(body: SignalBody): SignalSubmission {
  const { task_id: taskId, workload } = body.subject;
  let subject: SignalSubmission['subject'];
  if (taskId !== undefined) subject = { taskId };
  else {
    try {
      subject = { workload: SpiffeId.parse(workload ?? '') };
    } catch (err) {
      throw new BrokerError('BROKER_INPUT_INVALID', 'subject workload must be a spiffe id', { cause: err });
    }
  }
  return {
    kind: body.kind,
    severity: body.severity,
    subject,
    ...(body.description !== undefined && { description: body.description }),
    ...(body.evidence !== undefined && { evidence: body.evidence }),
    ...(body.occurred_at !== undefined && { occurredAt: new Date(body.occurred_at) }),
  };
}

function quarantineWire(q: QuarantineView): Record<string, unknown> {
  return { workload: q.workload.toString(), reason: q.reason, since: q.since.toISOString(), by: q.by };
}

/** The 202 answer on the wire. */
function acceptedView(a: SignalAccepted): Record<string, unknown> {
  return {
    signal_id: a.signalId,
    kind: a.kind,
    severity: a.severity,
    response: a.response,
    rule: a.rule,
    ...(a.revocation && { revocation: revocationView(a.revocation) }),
    ...(a.quarantine && { quarantine: quarantineWire(a.quarantine) }),
  };
}

/**
 * `POST /v1/signals` (ISSUE 4, anomaly signals), for callers with the `detector` role:
 *
 * - `Content-Type: application/json`: a signal `{kind, severity, subject, description?, evidence?,
 *   occurred_at?}`;
 * - `Content-Type: application/secevent+jwt`: a Security Event Token pushed as RFC 8935 defines,
 *   signed by the caller; refusals are RFC 8935 §2.3 `{err, description}` (plus `error_code`).
 *
 * Both answer 202 Accepted (RFC 8935 §2.2) with the signal id, the response the policy chose and what
 * it revoked, once the response has been applied.
 */
export async function registerSignalRoutes(
  app: FastifyInstance,
  { ports }: { ports: HttpPorts },
): Promise<void> {
  const port = ports.signals;
  if (port === undefined) return;
  // The SET arrives as the raw compact serialization; verifySet bounds its size (below the body limit).
  app.addContentTypeParser(
    SECEVENT_MEDIA_TYPE,
    { parseAs: 'string' },
    (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) =>
      done(null, typeof body === 'string' ? body : body.toString('utf8')),
  );
  app.setErrorHandler((err, request, reply) =>
    isSetDelivery(request) ? sendSetError(err, request, reply) : sendError(err, request, reply),
  );
  app.addHook('preHandler', requireCaller(ports.authenticate));
  app.post<{ Body: SignalBody | string }>(
    '/v1/signals',
    {
      schema: {
        tags: ['detectors'],
        security: callerSecurity,
        summary: 'Report an anomaly about a task or a workload (JSON, or an RFC 8935 Security Event Token)',
        body: {
          content: {
            'application/json': { schema: signalBody },
            [SECEVENT_MEDIA_TYPE]: { schema: setBody },
          },
        },
        response: { 202: signalAcceptedSchema, '4xx': signalErrorSchema, '5xx': signalErrorSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const accepted =
        typeof request.body === 'string'
          ? await port.deliverSet(caller, request.body)
          : await port.submit(caller, submissionOf(request.body));
      return reply.code(202).send(acceptedView(accepted));
    },
  );
}
