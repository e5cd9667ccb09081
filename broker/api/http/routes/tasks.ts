import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type { ManifestEntry, TaskStatus } from '../../../domain/task.js';
import { callerOf, requireCaller } from '../authenticate.js';
import type { HttpPorts } from '../../ports.js';
import {
  callerSecurity,
  cursorSchema,
  errorResponses,
  idParamsSchema,
  idSchema,
  LIMITS,
  limitQuerySchema,
  scopesSchema,
  taskSchema,
  ttlSchema,
} from '../schemas.js';
import { taskView } from '../views.js';

const startBody = {
  type: 'object',
  additionalProperties: false,
  required: ['intent', 'manifest'],
  properties: {
    intent: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: LIMITS.name },
        text: { type: 'string', maxLength: LIMITS.text },
      },
    },
    manifest: {
      type: 'array',
      maxItems: LIMITS.manifest,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'scopes'],
        properties: { provider: idSchema, scopes: scopesSchema },
      },
    },
    ttl_seconds: ttlSchema,
    parent_task_id: idSchema,
  },
};

const failBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: LIMITS.text } },
};

const emptyBody = { type: 'object', additionalProperties: false, properties: {} };

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workload: { type: 'string', minLength: 1, maxLength: LIMITS.spiffeId },
    status: { type: 'string', enum: ['active', 'completed', 'failed', 'expired', 'revoked'] },
    cursor: cursorSchema,
    limit: limitQuerySchema,
  },
};

interface StartBody {
  intent: { name: string; text?: string };
  manifest: ManifestEntry[];
  ttl_seconds?: number;
  parent_task_id?: string;
}
interface IdParams {
  id: string;
}
interface ListQuery {
  workload?: string;
  status?: TaskStatus;
  cursor?: string;
  limit?: string;
}

const taskResponses = { 200: taskSchema, ...errorResponses };

/** A POST whose body is optional: an absent body is the empty object, then validated as usual. */
async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

const base = { tags: ['workloads'], security: callerSecurity };

/** `POST /v1/tasks` and `GET /v1/tasks/:id`. */
function startAndShowRoutes(app: FastifyInstance, ports: HttpPorts): void {
  app.post<{ Body: StartBody }>(
    '/v1/tasks',
    {
      schema: {
        ...base,
        summary: 'Start a task',
        body: startBody,
        response: { 201: taskSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { intent, manifest, ttl_seconds, parent_task_id } = request.body;
      const task = await ports.tasks.start(callerOf(request), {
        intent,
        manifest,
        ...(ttl_seconds !== undefined && { ttlSeconds: ttl_seconds }),
        ...(parent_task_id !== undefined && { parentTaskId: parent_task_id }),
      });
      return reply.code(201).send(taskView(task));
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/tasks/:id',
    { schema: { ...base, summary: 'Show a task', params: idParamsSchema, response: taskResponses } },
    async (request) => taskView(await ports.tasks.get(callerOf(request), request.params.id)),
  );
}

/** `POST /v1/tasks/:id/complete` and `…/fail`: end the task, the port revokes its credentials. */
function endRoutes(app: FastifyInstance, ports: HttpPorts): void {
  app.post<{ Params: IdParams }>(
    '/v1/tasks/:id/complete',
    {
      preValidation: defaultEmptyBody,
      schema: {
        ...base,
        summary: 'Complete a task (revokes its credentials)',
        params: idParamsSchema,
        body: emptyBody,
        response: taskResponses,
      },
    },
    async (request) => taskView(await ports.tasks.complete(callerOf(request), request.params.id)),
  );

  app.post<{ Params: IdParams; Body: { reason?: string } }>(
    '/v1/tasks/:id/fail',
    {
      preValidation: defaultEmptyBody,
      schema: {
        ...base,
        summary: 'Fail a task (revokes its credentials)',
        params: idParamsSchema,
        body: failBody,
        response: taskResponses,
      },
    },
    async (request) =>
      taskView(await ports.tasks.fail(callerOf(request), request.params.id, request.body.reason)),
  );
}

/** `GET /v1/tasks` for operators, newest first. */
function listRoute(app: FastifyInstance, ports: HttpPorts): void {
  app.get<{ Querystring: ListQuery }>(
    '/v1/tasks',
    {
      schema: {
        tags: ['operators'],
        security: callerSecurity,
        summary: 'List tasks (operators), newest first',
        querystring: listQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              tasks: { type: 'array', items: taskSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { workload, status, cursor, limit } = request.query;
      const page = await ports.tasks.list(callerOf(request), {
        ...(workload !== undefined && { workload: SpiffeId.parse(workload) }),
        ...(status !== undefined && { status }),
        ...(cursor !== undefined && { cursor }),
        ...(limit !== undefined && { limit: Number(limit) }),
      });
      return { tasks: page.items.map(taskView), next_cursor: page.nextCursor };
    },
  );
}

/**
 * Workload task routes (`POST /v1/tasks`, `GET /v1/tasks/:id`, `…/complete`, `…/fail`) and the
 * operators' `GET /v1/tasks`. Every route is authenticated; ownership and roles are decided by the
 * ports (another workload's task is `BROKER_TASK_NOT_FOUND`, 404, as a missing one).
 */
export async function registerTaskRoutes(
  app: FastifyInstance,
  { ports }: { ports: HttpPorts },
): Promise<void> {
  app.addHook('preHandler', requireCaller(ports.authenticate));
  startAndShowRoutes(app, ports);
  endRoutes(app, ports);
  listRoute(app, ports);
}
