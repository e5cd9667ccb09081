import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3.1 §4.8.27 `mutualTLS` security scheme. @fastify/swagger's types follow OpenAPI 3.0, which
 * lacks it, hence the cast; the emitted document declares `openapi: 3.1.0`.
 */
const MUTUAL_TLS = {
  type: 'mutualTLS',
  description: 'an X509-SVID as the TLS client certificate',
} as unknown as { type: 'openIdConnect'; openIdConnectUrl: string };

/** Where the OpenAPI UI is served; the document itself is at `/docs/json` and `/docs/yaml`. */
export const DOCS_PREFIX = '/docs';

/**
 * Generates the OpenAPI 3.1 document from the route schemas and serves it with Swagger UI at
 * `/docs` (DESIGN.md "Interfaces: HTTP"). Call it BEFORE registering the routes, at the root: @fastify/swagger
 * collects them through an `onRoute` hook, in registration order.
 */
export function registerOpenApi(app: FastifyInstance, opts: { baseUrl: string; version: string }): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'taskpass broker',
        version: opts.version,
        description:
          'Errors are `{error: {code, message}}` with codes from docs/errors.md, except the OAuth ' +
          'endpoints, which answer RFC 6749 §5.2 `{error, error_description}` (plus `error_code`).',
      },
      servers: [{ url: opts.baseUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT-SVID' },
          mutualTLS: MUTUAL_TLS,
        },
      },
    },
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
}
