import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TaskTokenAlgorithm } from '../../../adapters/jwt/config.js';
import { buildOidcDiscovery } from '../../../adapters/jwt/oidc-discovery.js';
import { registerErrorHandling, sendError } from './error-handler.js';
import { registerMetrics } from './metrics.js';
import { registerRevocationMetrics } from './revocation-metrics.js';
import { registerOpenApi } from './openapi.js';
import type { HttpPorts } from '../ports.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerRevocationStreamRoutes } from './routes/revocation-stream.js';
import { registerCredentialRoutes } from './routes/credentials.js';
import { registerOAuthRoutes } from './routes/oauth.js';
import { registerPublicRoutes } from './routes/public.js';
import { registerRevocationRoutes } from './routes/revocations.js';
import { registerSignalRoutes } from './routes/signals.js';
import { registerTaskRoutes } from './routes/tasks.js';
import type { BrokerHttpsOptions } from './tls.js';

/** Default request body limit: every valid body is far smaller (schemas bound every field). */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Options of {@link createHttpServer}: this factory's slice of the configuration. */
export interface HttpServerOptions {
  /** The process logger (pino with `REDACT_PATHS`); requests log through `request.log` children. */
  readonly logger: Logger;
  /** The broker's public base URL: the task-token issuer of the discovery document. */
  readonly baseUrl: string;
  /** This server's Prometheus registry (not prom-client's global one). */
  readonly metrics: Registry;
  /** Register prom-client's default process metrics on `metrics` (default true). */
  readonly defaultMetrics?: boolean;
  /** Largest accepted body in bytes (default {@link DEFAULT_BODY_LIMIT}); larger is 413. */
  readonly bodyLimit?: number;
  /** Serve HTTPS with these options (see `brokerHttpsOptions`); plain HTTP when absent. */
  readonly https?: BrokerHttpsOptions;
  /** Algorithms advertised in the discovery document (default: all the keyring supports). */
  readonly signingAlgorithms?: readonly TaskTokenAlgorithm[];
  /** Serve the OpenAPI document and UI at `/docs` (default true). */
  readonly docs?: boolean;
  /** The API version shown in the OpenAPI document. */
  readonly version?: string;
}

/**
 * Builds the broker's HTTP API (DESIGN.md "Interfaces: HTTP") as a fastify instance over `ports`.
 * It never listens: `main` does (`await app.listen(...)`), and tests use `app.inject()`.
 *
 * Input validation is strict: bodies are never type-coerced and unknown fields are refused, not
 * silently removed (fastify's Ajv defaults do both). Query strings are therefore strings too: numeric
 * parameters are validated by pattern and converted by the handler. Only JSON bodies are accepted
 * (text/plain is removed; other types are 415), except form bodies on the OAuth endpoints.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` when `baseUrl` cannot be an issuer.
 */
export function createHttpServer(ports: HttpPorts, opts: HttpServerOptions): FastifyInstance {
  const discovery = buildOidcDiscovery(
    opts.baseUrl,
    opts.signingAlgorithms ? { signingAlgorithms: opts.signingAlgorithms } : {},
  );
  const app = fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(opts.https && { https: opts.https }),
    // Longer ids are refused by the router itself, through the same error path.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (err, request, reply) => sendError(err, request, reply),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  }) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('caller', null);
  registerErrorHandling(app);
  if (opts.docs !== false) registerOpenApi(app, { baseUrl: discovery.issuer, version: opts.version ?? '1' });
  registerMetrics(app, {
    registry: opts.metrics,
    ...(opts.defaultMetrics !== undefined && { defaultMetrics: opts.defaultMetrics }),
  });
  void app.register(registerPublicRoutes, { ports, discovery });
  void app.register(registerTaskRoutes, { ports });
  void app.register(registerCredentialRoutes, { ports });
  void app.register(registerOAuthRoutes, { ports });
  void app.register(registerAuditRoutes, { ports });
  void app.register(registerRevocationStreamRoutes, { ports });
  void app.register(registerRevocationRoutes, { ports });
  void app.register(registerSignalRoutes, { ports });
  if (ports.revocationMetrics) registerRevocationMetrics(opts.metrics, ports.revocationMetrics);
  return app;
}
