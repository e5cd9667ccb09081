import type { FastifyInstance } from 'fastify';
import { BROKER_OAUTH_PATHS, TOKEN_EXCHANGE_GRANT_TYPE } from '../../../../adapters/jwt/oidc-discovery.js';
import { callerOf, requireCaller } from '../authenticate.js';
import { OAuthRefusal, registerOAuthErrorHandling, type OAuthEndpoint } from '../oauth-errors.js';
import type { HttpPorts } from '../../ports.js';
import { callerSecurity, LIMITS } from '../schemas.js';

const FORM = 'application/x-www-form-urlencoded';

/** A parsed form: a parameter given more than once becomes an array (refused where not allowed). */
export type FormParams = Record<string, string | string[]>;

/** Parses an `application/x-www-form-urlencoded` body (WHATWG URL §5.1, as RFC 6749 Appendix B uses). */
export function parseForm(body: string): FormParams {
  const params: FormParams = Object.create(null) as FormParams;
  for (const [key, value] of new URLSearchParams(body)) {
    const prev = params[key];
    params[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return params;
}

const short = { type: 'string', minLength: 1, maxLength: LIMITS.name * 2 };
const token = { type: 'string', minLength: 1, maxLength: LIMITS.token };
const uri = { type: 'string', minLength: 1, maxLength: LIMITS.uri };
const uris = { anyOf: [uri, { type: 'array', minItems: 1, maxItems: 8, items: uri }] };
/** RFC 6749 §3.3: scope-tokens separated by single spaces. */
const scope = { type: 'string', maxLength: LIMITS.uri, pattern: '^[!#-\\[\\]-~]+( [!#-\\[\\]-~]+)*$' };

/**
 * RFC 6749 §3.2 says unrecognized parameters MUST be ignored, so these two bodies are the documented
 * exception to closed schemas: known parameters are still typed and bounded, and a parameter given
 * twice is refused (RFC 6749 §3.2) except `resource` and `audience` (RFC 8693 §2.1).
 */
const tokenBody = {
  type: 'object',
  required: ['grant_type', 'subject_token', 'subject_token_type'],
  properties: {
    grant_type: short,
    subject_token: token,
    subject_token_type: short,
    resource: uris,
    audience: uris,
    scope,
    requested_token_type: short,
    actor_token: token,
    actor_token_type: short,
  },
};

const introspectBody = {
  type: 'object',
  required: ['token'],
  properties: { token, token_type_hint: short },
};

interface TokenBody {
  grant_type: string;
  subject_token: string;
  subject_token_type: string;
  resource?: string | string[];
  audience?: string | string[];
  scope?: string;
  requested_token_type?: string;
  actor_token?: string;
}

const oauthError = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
    error_code: { type: 'string' },
  },
};
const oauthErrors = { '4xx': oauthError, '5xx': oauthError };

/** RFC 8693 §2.2.1. */
const tokenResponse = {
  type: 'object',
  required: ['access_token', 'issued_token_type', 'token_type'],
  properties: {
    access_token: { type: 'string' },
    issued_token_type: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
  },
};

/** RFC 7662 §2.2. */
const introspection = {
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean' },
    ...Object.fromEntries(
      ['scope', 'client_id', 'token_type', 'sub', 'iss', 'jti', 'task_id'].map((k) => [
        k,
        { type: 'string' },
      ]),
    ),
    ...Object.fromEntries(['exp', 'iat', 'nbf'].map((k) => [k, { type: 'integer' }])),
    aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  },
};

function listOf(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** An encapsulated context that accepts only form bodies and answers errors the OAuth way. */
function oauthContext(app: FastifyInstance, endpoint: OAuthEndpoint): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseForm(body as string));
  });
  registerOAuthErrorHandling(app, endpoint);
}

/**
 * `POST /oauth2/token`: OAuth 2.0 Token Exchange (RFC 8693 §2). The client is authenticated by its
 * subject token, a JWT-SVID (token endpoint auth method `none` in the discovery document).
 */
async function registerTokenRoute(app: FastifyInstance, { ports }: { ports: HttpPorts }): Promise<void> {
  oauthContext(app, 'token');
  app.post<{ Body: TokenBody }>(
    BROKER_OAUTH_PATHS.token,
    {
      schema: {
        tags: ['workloads'],
        summary: 'OAuth 2.0 Token Exchange (RFC 8693)',
        consumes: [FORM],
        body: tokenBody,
        response: { 200: tokenResponse, ...oauthErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.grant_type !== TOKEN_EXCHANGE_GRANT_TYPE) {
        throw new OAuthRefusal('unsupported_grant_type', 'only token exchange is supported');
      }
      if (body.actor_token !== undefined)
        throw new OAuthRefusal('invalid_request', 'delegation (actor_token) is not supported');
      const result = await ports.tokenExchange.exchange({
        subjectToken: body.subject_token,
        subjectTokenType: body.subject_token_type,
        resources: listOf(body.resource),
        audiences: listOf(body.audience),
        scopes: body.scope === undefined ? [] : body.scope.split(' '),
        ...(body.requested_token_type !== undefined && { requestedTokenType: body.requested_token_type }),
      });
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        access_token: result.accessToken,
        issued_token_type: result.issuedTokenType,
        token_type: result.tokenType,
        expires_in: result.expiresInSeconds,
        ...(result.scopes.length > 0 && { scope: result.scopes.join(' ') }),
      };
    },
  );
}

/**
 * `POST /oauth2/introspect`: RFC 7662 §2. Unlike a bare RFC 7662 server, the caller must itself be
 * authenticated (mTLS X509-SVID or a JWT-SVID bearer) AND be allowed by policy as a resource server
 * or operator (RFC 7662 §2.1 requires some authorization, to stop token scanning); the
 * {@link IntrospectionPort} decides the role.
 */
async function registerIntrospectRoute(app: FastifyInstance, { ports }: { ports: HttpPorts }): Promise<void> {
  oauthContext(app, 'introspect');
  app.post<{ Body: { token: string; token_type_hint?: string } }>(
    BROKER_OAUTH_PATHS.introspection,
    {
      preHandler: requireCaller(ports.authenticate),
      schema: {
        tags: ['resource servers'],
        summary: 'Token introspection (RFC 7662); caller must be a resource server or operator',
        security: callerSecurity,
        consumes: [FORM],
        body: introspectBody,
        response: { 200: introspection, ...oauthErrors },
      },
    },
    async (request, reply) => {
      const { token: value, token_type_hint } = request.body;
      const answer = await ports.introspection.introspect(callerOf(request), {
        token: value,
        ...(token_type_hint !== undefined && { tokenTypeHint: token_type_hint }),
      });
      void reply.header('cache-control', 'no-store');
      return answer;
    },
  );
}

/** Registers both OAuth endpoints, each in its own context (form bodies, RFC 6749 §5.2 errors). */
export async function registerOAuthRoutes(app: FastifyInstance, opts: { ports: HttpPorts }): Promise<void> {
  await app.register(registerTokenRoute, opts);
  await app.register(registerIntrospectRoute, opts);
}
