import type { FastifyInstance } from 'fastify';
import { logRefusal, translateFastifyError } from './error-handler.js';
import { describeError, type HttpErrorView } from './error-status.js';

/** The OAuth endpoints, which answer errors differently (see {@link oauthErrorBody}). */
export type OAuthEndpoint = 'token' | 'introspect';

/** An OAuth error the HTTP layer itself decides (RFC 6749 §5.2 `error` value), e.g. a wrong grant. */
export class OAuthRefusal extends Error {
  override readonly name = 'OAuthRefusal';

  constructor(
    readonly error: 'unsupported_grant_type' | 'invalid_request',
    description: string,
  ) {
    super(description);
  }
}

/** The RFC 6749 §5.2 error body, plus our catalog code in `error_code` (an extension member). */
export interface OAuthErrorBody {
  readonly error: string;
  readonly error_description: string;
  readonly error_code: string;
}

/** Codes whose refusal means "cannot issue for the requested task or provider" (RFC 8693 §2.2.2). */
const TARGET_STATUSES = new Set([403, 404, 409]);

function oauthErrorValue(view: HttpErrorView, endpoint: OAuthEndpoint): { status: number; error: string } {
  if (view.status >= 500) {
    return { status: view.status, error: view.status === 503 ? 'temporarily_unavailable' : 'server_error' };
  }
  if (view.status === 429) return { status: 429, error: 'temporarily_unavailable' };
  // Transport refusals (body too large, not a form) keep their precise status.
  if (view.status === 413 || view.status === 415) return { status: view.status, error: 'invalid_request' };
  if (endpoint === 'token') {
    // RFC 8693 §2.2.2: an invalid subject token is `invalid_request`; a target the server will not
    // issue for (unknown task or provider, denied, ended task) is `invalid_target`. Both are 400.
    if (TARGET_STATUSES.has(view.status) || view.code === 'BROKER_ADAPTER_UNKNOWN_PROVIDER') {
      return { status: 400, error: 'invalid_target' };
    }
    return { status: 400, error: 'invalid_request' };
  }
  // Introspection callers authenticate with a bearer JWT-SVID or mTLS: RFC 7662 §2.3 defers to
  // RFC 6750 §3.1 — a missing or bad credential is 401 `invalid_token`, too few privileges 403
  // `insufficient_scope`.
  if (view.status === 401) return { status: 401, error: 'invalid_token' };
  if (view.status === 403) return { status: 403, error: 'insufficient_scope' };
  return { status: 400, error: 'invalid_request' };
}

/**
 * Maps any error raised under an OAuth endpoint to an RFC 6749 §5.2 answer (`{error,
 * error_description}`): the one documented exception to the API's `{error: {code, message}}` shape,
 * so that stock OAuth client libraries understand the broker. The status still comes from the one
 * table ({@link describeError}); our code travels in `error_code`.
 */
export function oauthErrorBody(
  err: unknown,
  endpoint: OAuthEndpoint,
): { status: number; view: HttpErrorView; body: OAuthErrorBody } {
  if (err instanceof OAuthRefusal) {
    const view = { status: 400, code: 'BROKER_INPUT_INVALID', message: err.message };
    return {
      status: 400,
      view,
      body: { error: err.error, error_description: err.message, error_code: view.code },
    };
  }
  const view = describeError(translateFastifyError(err));
  const { status, error } = oauthErrorValue(view, endpoint);
  return { status, view, body: { error, error_description: view.message, error_code: view.code } };
}

/** Installs the OAuth error handler in the (encapsulated) context of one OAuth endpoint. */
export function registerOAuthErrorHandling(app: FastifyInstance, endpoint: OAuthEndpoint): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, view, body } = oauthErrorBody(err, endpoint);
    logRefusal(request, view, err);
    if (status === 401) void reply.header('www-authenticate', `Bearer error="${body.error}"`);
    // RFC 6749 §5.1/§5.2: token endpoint answers are not cached.
    return reply.code(status).header('cache-control', 'no-store').header('pragma', 'no-cache').send(body);
  });
}
