import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError, type BrokerErrorCode } from '../../errors.js';
import { describeError, type HttpErrorView } from './error-status.js';

/** fastify's own refusals (content-type parser, body limit) mapped to transport codes. */
const FASTIFY_CODES: Readonly<Record<string, BrokerErrorCode>> = Object.freeze({
  FST_ERR_CTP_BODY_TOO_LARGE: 'BROKER_HTTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE',
});

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as { statusCode?: unknown }).statusCode === 'number';
}

/**
 * Translates an error raised by fastify itself (schema validation, body parsing, body limit) into
 * our codes, where it enters (EXAMPLES.md "Errors": foreign errors are translated at the edge).
 * Our own errors pass through unchanged.
 *
 * Parse errors get a constant detail: a JSON parser's message quotes the body, which may hold secrets.
 * Validation messages only name the schema path and rule, never the value, so they are kept.
 */
export function translateFastifyError(err: unknown): unknown {
  if (!isFastifyError(err)) return err;
  if (err.validation) return new BrokerError('BROKER_INPUT_INVALID', err.message);
  const mapped = FASTIFY_CODES[err.code];
  if (mapped) return new BrokerError(mapped);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new BrokerError('BROKER_INPUT_INVALID', 'request could not be parsed', { cause: err });
  }
  return err;
}

/** Logs one refusal with constant messages; the error object only for 5xx (it may hold internals). */
export function logRefusal(request: FastifyRequest, view: HttpErrorView, err: unknown): void {
  if (view.status >= 500) {
    request.log.error({ err, error_code: view.code, status: view.status }, 'request failed');
  } else {
    request.log.info({ error_code: view.code, status: view.status }, 'request refused');
  }
}

/**
 * Answers any error as `{error: {code, message}}` with the status of the one table
 * ({@link describeError}). A 401 also carries `WWW-Authenticate: Bearer` (RFC 6750 §3, RFC 9110 §11.6.1).
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const view = describeError(translateFastifyError(err));
  logRefusal(request, view, err);
  if (view.status === 401) void reply.header('www-authenticate', 'Bearer realm="taskpass"');
  return reply.code(view.status).send({ error: { code: view.code, message: view.message } });
}

/**
 * Installs the single error handler and the not-found handler ({@link sendError}). Errors the router
 * raises before a route is found (bad URL, over-long path parameter) go through {@link sendError} too,
 * via fastify's `frameworkErrors` option set in `server.ts`.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new BrokerError('BROKER_HTTP_NOT_FOUND'), request, reply),
  );
}
