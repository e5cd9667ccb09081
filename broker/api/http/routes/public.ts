import { BrokerError } from '../../../errors.js';
import type { FastifyInstance } from 'fastify';
import { BROKER_OAUTH_PATHS, type OidcDiscoveryDocument } from '../../../../adapters/jwt/oidc-discovery.js';
import type { HttpPorts } from '../../ports.js';
import { errorResponses, errorSchema } from '../schemas.js';

const jwksSchema = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
};

const discoverySchema = {
  type: 'object',
  additionalProperties: true,
  required: ['issuer', 'jwks_uri', 'token_endpoint', 'introspection_endpoint'],
  properties: {
    issuer: { type: 'string' },
    jwks_uri: { type: 'string' },
    token_endpoint: { type: 'string' },
    introspection_endpoint: { type: 'string' },
  },
};

/**
 * Unauthenticated routes for resource servers and operations:
 * - `GET /.well-known/jwks.json`: the task-token verification keys (RFC 7517 §5);
 * - `GET /.well-known/openid-configuration`: OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata;
 * - `GET /healthz`: liveness (the process answers); `GET /readyz`: readiness (every
 *   {@link HealthPort} check passes, else 503 `BROKER_HTTP_NOT_READY` with the failing checks).
 *
 * The JWKS may be cached for a short time; keys rotate with overlap, so a minute is safe.
 */
export async function registerPublicRoutes(
  app: FastifyInstance,
  { ports, discovery }: { ports: HttpPorts; discovery: OidcDiscoveryDocument },
): Promise<void> {
  discoveryRoutes(app, ports, discovery);
  healthRoutes(app, ports);
}

/** JWKS and OpenID discovery. */
function discoveryRoutes(app: FastifyInstance, ports: HttpPorts, discovery: OidcDiscoveryDocument): void {
  app.get(
    BROKER_OAUTH_PATHS.jwks,
    {
      schema: {
        tags: ['resource servers'],
        summary: 'Task-token verification keys (RFC 7517)',
        response: { 200: jwksSchema, ...errorResponses },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=60');
      return ports.keys.jwks();
    },
  );

  app.get(
    BROKER_OAUTH_PATHS.discovery,
    {
      schema: {
        tags: ['resource servers'],
        summary: 'OpenID Provider metadata',
        response: { 200: discoverySchema, ...errorResponses },
      },
    },
    async () => discovery,
  );
}

/** Liveness and readiness probes. */
function healthRoutes(app: FastifyInstance, ports: HttpPorts): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  const checksSchema = { type: 'object', additionalProperties: { type: 'boolean' } };
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the store is reachable and a policy is loaded',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: checksSchema } },
          503: { ...errorSchema, properties: { ...errorSchema.properties, checks: checksSchema } },
        },
      },
    },
    async (request, reply) => {
      const checks = await ports.health.ready().catch((err: unknown) => {
        request.log.warn({ err }, 'readiness check failed');
        return null;
      });
      const failing =
        checks === null ? ['checks unavailable'] : Object.keys(checks).filter((n) => !checks[n]);
      if (checks === null || failing.length > 0) {
        const err = new BrokerError('BROKER_HTTP_NOT_READY', failing.join(', '));
        return reply
          .code(503)
          .send({ error: { code: err.code, message: err.message }, checks: checks ?? {} });
      }
      return { status: 'ready', checks };
    },
  );
}
