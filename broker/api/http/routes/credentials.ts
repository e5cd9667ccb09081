import type { FastifyInstance } from 'fastify';
import { callerOf, requireCaller } from '../authenticate.js';
import type { HttpPorts } from '../../ports.js';
import {
  callerSecurity,
  credentialSchema,
  errorResponses,
  idParamsSchema,
  idSchema,
  scopesSchema,
  ttlSchema,
} from '../schemas.js';
import { credentialView } from '../views.js';

const issueBody = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'scopes'],
  properties: { provider: idSchema, scopes: scopesSchema, ttl_seconds: ttlSchema },
};

interface IssueBody {
  provider: string;
  scopes: string[];
  ttl_seconds?: number;
}

const base = { tags: ['workloads'], security: callerSecurity };

/**
 * `POST /v1/tasks/:id/credentials`: issues one task-scoped credential through the
 * {@link CredentialPort}, which resolves only once the issuance event is committed (DESIGN.md
 * invariant 1). The secret is returned once, with `Cache-Control: no-store` (RFC 6749 §5.1, RFC 9111 §5.2.2.5).
 */
export async function registerCredentialRoutes(
  app: FastifyInstance,
  { ports }: { ports: HttpPorts },
): Promise<void> {
  app.addHook('preHandler', requireCaller(ports.authenticate));
  app.post<{ Params: { id: string }; Body: IssueBody }>(
    '/v1/tasks/:id/credentials',
    {
      schema: {
        ...base,
        summary: 'Issue a task-scoped credential (recorded in the ledger before it is returned)',
        params: idParamsSchema,
        body: issueBody,
        response: {
          201: { type: 'object', properties: { credential: credentialSchema, secret: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { provider, scopes, ttl_seconds } = request.body;
      const issued = await ports.credentials.issue(callerOf(request), {
        taskId: request.params.id,
        provider,
        scopes,
        ...(ttl_seconds !== undefined && { ttlSeconds: ttl_seconds }),
      });
      // RFC 6749 §5.1: responses carrying credentials must not be cached.
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return reply.code(201).send({ credential: credentialView(issued.credential), secret: issued.secret });
    },
  );
}
