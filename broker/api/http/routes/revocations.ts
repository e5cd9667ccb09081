import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type { CredentialStatus } from '../../../domain/credential.js';
import { callerOf, requireCaller } from '../authenticate.js';
import type {
  CredentialListItem,
  QuarantineView,
  RevocationPort,
  RevocationResult,
  RevocationTarget,
  HttpPorts,
} from '../../ports.js';
import {
  credentialsQuery,
  listedCredentialSchema,
  quarantineBody,
  quarantineSchema,
  retryBody,
  revocationResultSchema,
  revokeBody,
} from '../revocation-schemas.js';
import { callerSecurity, errorResponses } from '../schemas.js';
import { credentialView } from '../views.js';

interface SelectorBody {
  spiffe_id_prefix?: string;
  spiffe_id_glob?: string;
  trust_domain?: string;
  provider?: string;
  started_before?: string;
}
interface RevokeBody {
  credential_id?: string;
  task_id?: string;
  workload?: string;
  selector?: SelectorBody;
  reason: string;
  confirm?: boolean;
}
interface QuarantineBody {
  workload: string;
  reason: string;
}
interface CredentialsQuery {
  status?: CredentialStatus;
  task_id?: string;
  provider?: string;
  cursor?: string;
  limit?: string;
}

/** The port's target of a validated body (the schema guarantees exactly one member). */
function targetOf(body: RevokeBody): RevocationTarget {
  if (body.credential_id !== undefined) return { kind: 'credential', credentialId: body.credential_id };
  if (body.task_id !== undefined) return { kind: 'task', taskId: body.task_id };
  if (body.workload !== undefined) return { kind: 'workload', workload: SpiffeId.parse(body.workload) };
  const s = body.selector ?? {};
  return {
    kind: 'selector',
    selector: {
      ...(s.spiffe_id_prefix !== undefined && { spiffeIdPrefix: s.spiffe_id_prefix }),
      ...(s.spiffe_id_glob !== undefined && { spiffeIdGlob: s.spiffe_id_glob }),
      ...(s.trust_domain !== undefined && { trustDomain: s.trust_domain }),
      ...(s.provider !== undefined && { provider: s.provider }),
      ...(s.started_before !== undefined && { startedBefore: new Date(s.started_before) }),
    },
  };
}

/** A revocation's answer on the wire (snake_case, RFC 3339). */
export function revocationView(result: RevocationResult): Record<string, unknown> {
  return {
    revocation_id: result.revocationId,
    tasks: [...result.tasks],
    credentials: result.credentials.map((c) => ({
      id: c.id,
      task_id: c.taskId,
      provider: c.provider,
      outcome: c.outcome,
      expires_at: c.expiresAt.toISOString(),
    })),
    counts: {
      revoked: result.counts.revoked,
      pending: result.counts.pending,
      not_revocable: result.counts.notRevocable,
    },
    exposed_until: result.exposedUntil?.toISOString() ?? null,
  };
}

function quarantineView(q: QuarantineView): Record<string, unknown> {
  return { workload: q.workload.toString(), reason: q.reason, since: q.since.toISOString(), by: q.by };
}

function listedView(c: CredentialListItem): Record<string, unknown> {
  const q = c.revocation ?? null;
  return {
    ...credentialView(c),
    revoked_at: c.revokedAt?.toISOString() ?? null,
    revocation: q && {
      state: q.state,
      attempts: q.attempts,
      last_error: q.lastError,
      next_attempt_at: q.nextAttemptAt?.toISOString() ?? null,
      outcome: q.outcome,
    },
  };
}

/** A POST whose body is optional: an absent body is the empty object, then validated as usual. */
async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

const base = { tags: ['operators'], security: callerSecurity };

function revocationRoutes(app: FastifyInstance, port: RevocationPort): void {
  app.post<{ Body: RevokeBody }>(
    '/v1/revocations',
    {
      schema: {
        ...base,
        summary: 'Revoke a credential, a task (and its sub-tasks), a workload or a selection',
        body: revokeBody,
        response: { 200: revocationResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { reason, confirm } = request.body;
      const result = await port.revoke(callerOf(request), {
        target: targetOf(request.body),
        reason,
        ...(confirm !== undefined && { confirm }),
      });
      return revocationView(result);
    },
  );

  app.post<{ Body: { credential_id?: string } }>(
    '/v1/revocations/retry',
    {
      preValidation: defaultEmptyBody,
      schema: {
        ...base,
        summary: 'Retry revoke_failed credentials now (one, or all)',
        body: retryBody,
        response: {
          200: { type: 'object', required: ['requeued'], properties: { requeued: { type: 'integer' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const id = request.body.credential_id;
      return port.retryFailed(callerOf(request), id === undefined ? {} : { credentialId: id });
    },
  );

  app.get<{ Querystring: CredentialsQuery }>(
    '/v1/credentials',
    {
      schema: {
        ...base,
        summary: 'List credentials (operators), newest first, with their revocation state',
        querystring: credentialsQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              credentials: { type: 'array', items: listedCredentialSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { status, task_id, provider, cursor, limit } = request.query;
      const page = await port.credentials(callerOf(request), {
        ...(status !== undefined && { status }),
        ...(task_id !== undefined && { taskId: task_id }),
        ...(provider !== undefined && { provider }),
        ...(cursor !== undefined && { cursor }),
        ...(limit !== undefined && { limit: Number(limit) }),
      });
      return { credentials: page.items.map(listedView), next_cursor: page.nextCursor };
    },
  );
}

function quarantineRoutes(app: FastifyInstance, port: RevocationPort): void {
  app.post<{ Body: QuarantineBody }>(
    '/v1/quarantines',
    {
      schema: {
        ...base,
        summary: 'Quarantine a workload: its tasks are revoked and it gets no new task or credential',
        body: quarantineBody,
        response: {
          200: {
            ...quarantineSchema,
            properties: { ...quarantineSchema.properties, revocation: revocationResultSchema },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { workload, reason } = request.body;
      const q = await port.quarantine(callerOf(request), { workload: SpiffeId.parse(workload), reason });
      return { ...quarantineView(q), revocation: revocationView(q.revocation) };
    },
  );

  app.post<{ Body: QuarantineBody }>(
    '/v1/quarantines/lift',
    {
      schema: {
        ...base,
        summary: 'Lift a quarantine',
        body: quarantineBody,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { workload, reason } = request.body;
      await port.lift(callerOf(request), { workload: SpiffeId.parse(workload), reason });
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/quarantines',
    {
      schema: {
        ...base,
        summary: 'Quarantines in force',
        response: {
          200: {
            type: 'object',
            properties: { quarantines: { type: 'array', items: quarantineSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ quarantines: (await port.quarantines(callerOf(request))).map(quarantineView) }),
  );
}

/**
 * The operators' revocation routes (ISSUE 4): `POST /v1/revocations`, `POST /v1/revocations/retry`,
 * `GET /v1/credentials`, `POST /v1/quarantines`, `POST /v1/quarantines/lift`, `GET /v1/quarantines`.
 * Every route is authenticated; the port requires the operator role. Not registered when the app
 * wires no revocation port.
 */
export async function registerRevocationRoutes(
  app: FastifyInstance,
  { ports }: { ports: HttpPorts },
): Promise<void> {
  const port = ports.revocations;
  if (port === undefined) return;
  app.addHook('preHandler', requireCaller(ports.authenticate));
  revocationRoutes(app, port);
  quarantineRoutes(app, port);
}
