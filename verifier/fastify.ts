import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { BROKER_ERROR_CODES, BrokerError } from '../broker/errors.js';
import type { TaskTokenVerifier, VerifiedTaskToken } from './index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified task token, set by the taskpass verifier plugin; null where it does not apply. */
    taskToken: VerifiedTaskToken | null;
  }
}

/** Options of {@link taskTokenAuth}. */
export interface TaskTokenAuthOptions {
  readonly verifier: TaskTokenVerifier;
  /** The `realm` of `WWW-Authenticate` (RFC 6750 §3); default `taskpass`. */
  readonly realm?: string;
  /** Scopes every request must carry (each one): otherwise 403 `insufficient_scope`. */
  readonly requiredScopes?: readonly string[];
  /** Wait for the verifier's first feed catch-up before the server is ready; default true. */
  readonly waitForFeed?: boolean;
}

/** RFC 6750 §2.1 `b64token`, after a case-insensitive `Bearer` and one or more spaces. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** A quoted-string for an auth-param (RFC 9110 §5.6.4). */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function challenge(realm: string, params: Record<string, string> = {}): string {
  const all = { realm, ...params };
  return `Bearer ${Object.entries(all)
    .map(([k, v]) => `${k}=${quoted(v)}`)
    .join(', ')}`;
}

function refuse(
  reply: FastifyReply,
  status: number,
  code: BrokerError['code'],
  header?: string,
): FastifyReply {
  if (header !== undefined) void reply.header('www-authenticate', header);
  return reply.code(status).send({ error: { code, message: BROKER_ERROR_CODES[code].message } });
}

/** The `onRequest` hook: verifies the bearer task token and sets `request.taskToken`. */
function verifyRequest(opts: TaskTokenAuthOptions): onRequestAsyncHookHandler {
  const realm = opts.realm ?? 'taskpass';
  const required = opts.requiredScopes ?? [];
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    // RFC 6750 §3.1: a request without credentials gets the bare challenge, no error code.
    if (header === undefined) return refuse(reply, 401, 'BROKER_AUTH_MISSING', challenge(realm));
    const match = BEARER.exec(header);
    if (!match) {
      const params = { error: 'invalid_request', error_description: 'authorization is not a bearer token' };
      return refuse(reply, 400, 'BROKER_AUTH_INVALID', challenge(realm, params));
    }
    let token: VerifiedTaskToken;
    try {
      token = await opts.verifier.verify(match[1]!);
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (!err.code.startsWith('BROKER_TOKEN_')) return refuse(reply, 503, err.code);
      const description = BROKER_ERROR_CODES[err.code].message;
      const params = { error: 'invalid_token', error_description: description };
      return refuse(reply, 401, err.code, challenge(realm, params));
    }
    const missing = required.filter((s) => !token.scopes.includes(s));
    if (missing.length > 0) {
      const params = { error: 'insufficient_scope', scope: required.join(' ') };
      return refuse(reply, 403, 'BROKER_TOKEN_INSUFFICIENT_SCOPE', challenge(realm, params));
    }
    request.taskToken = token;
  };
}

/**
 * A fastify plugin that admits only requests bearing a valid, unrevoked task token (RFC 6750):
 * `request.taskToken` is the verified token; otherwise the answer is 401 with
 * `WWW-Authenticate: Bearer realm=…, error="invalid_token", error_description=…` (RFC 6750 §3),
 * 400 `invalid_request` for a malformed `Authorization` header, 403 `insufficient_scope` when a
 * required scope is missing, or 503 when the verifier cannot decide (fail closed). Bodies are
 * `{error: {code, message}}` with the catalog code.
 *
 * It applies to the routes of the context it is registered in (and their children): register it
 * inside the plugin that holds the protected routes.
 */
export async function taskTokenAuth(app: FastifyInstance, opts: TaskTokenAuthOptions): Promise<void> {
  if (!app.hasRequestDecorator('taskToken')) app.decorateRequest('taskToken', null);
  if (opts.waitForFeed !== false) app.addHook('onReady', () => opts.verifier.ready());
  app.addHook('onRequest', verifyRequest(opts));
}

// Like fastify-plugin: the hook and decorator belong to the registering context, not a child of it.
(taskTokenAuth as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
