import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, type Registry } from 'prom-client';

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /** The server's own registry (never prom-client's global one: no module-level state). */
  readonly registry: Registry;
  /** Also register prom-client's process metrics (default true); false when the caller already did. */
  readonly defaultMetrics?: boolean;
}

/** Label of requests that matched no route: keeps scanners from creating one series per URL. */
const UNMATCHED = 'unmatched';

/**
 * Records every response in `taskpass_http_requests_total` and
 * `taskpass_http_request_duration_seconds`, labelled by method, route TEMPLATE (`/v1/tasks/:id`, never
 * the concrete URL) and status code, so label cardinality is bounded by the route table. Serves the
 * registry at `GET /metrics` in the Prometheus text format (unauthenticated, like `/healthz`: put it
 * behind the operations network).
 */
export function registerMetrics(app: FastifyInstance, opts: MetricsOptions): void {
  const { registry } = opts;
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'taskpass_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taskpass_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status code',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.is404 ? UNMATCHED : (request.routeOptions.url ?? UNMATCHED),
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  // The route lives in a child plugin so that it loads after @fastify/swagger (it appears in /docs).
  void app.register(async (scope) => {
    scope.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format)',
          produces: ['text/plain'],
        },
      },
      async (_request, reply) => {
        void reply.header('content-type', registry.contentType);
        return registry.metrics();
      },
    );
  });
}
