/**
 * JSON Schemas shared by the routes. Every input schema is closed (`additionalProperties: false`) and
 * bounds every string and array, so unknown fields and oversized inputs are refused before a port is
 * called (DESIGN.md invariant 5). Output schemas also drive serialization: fast-json-stringify writes
 * only the declared members, so nothing undeclared (a handle, a secret hash) can leak into a response.
 */

/** Limits on input sizes. */
export const LIMITS = Object.freeze({
  id: 128,
  name: 128,
  text: 1024,
  scope: 256,
  scopes: 64,
  manifest: 32,
  spiffeId: 2048,
  cursor: 512,
  token: 8192,
  uri: 2048,
  maxTtlSeconds: 7 * 24 * 3600,
});

/** A short identifier (task id, provider name). */
export const idSchema = { type: 'string', minLength: 1, maxLength: LIMITS.id, pattern: '^[A-Za-z0-9._:-]+$' };

/** A scope-token of RFC 6749 §3.3: printable ASCII without space, `"` or `\`. */
export const scopeSchema = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.scope,
  pattern: '^[!#-\\[\\]-~]+$',
};

/** Distinct scope-tokens, bounded in number. */
export const scopesSchema = { type: 'array', maxItems: LIMITS.scopes, uniqueItems: true, items: scopeSchema };

/** A lifetime in whole seconds. */
export const ttlSchema = { type: 'integer', minimum: 1, maximum: LIMITS.maxTtlSeconds };

/** A page size as a query string (query strings are not coerced: see `server.ts`). */
export const limitQuerySchema = { type: 'string', pattern: '^[1-9][0-9]{0,3}$' };

/** An opaque pagination cursor. */
export const cursorSchema = { type: 'string', minLength: 1, maxLength: LIMITS.cursor };

/** The `:id` path parameter. */
export const idParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: idSchema },
};

/** `{error: {code, message}}`: every refusal of the API except the OAuth endpoints. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

/** Response schemas for the error statuses, to merge into a route's `response`. */
export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema };

/** A task as the API shows it (snake_case wire names). */
export const taskSchema = {
  type: 'object',
  required: ['id', 'workload', 'intent', 'manifest', 'status', 'created_at', 'deadline', 'parent_task_id'],
  properties: {
    id: { type: 'string' },
    workload: { type: 'string', description: 'SPIFFE ID of the owning workload' },
    intent: {
      type: 'object',
      properties: { name: { type: 'string' }, text: { type: 'string' } },
    },
    manifest: {
      type: 'array',
      items: {
        type: 'object',
        properties: { provider: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } } },
      },
    },
    status: { type: 'string', enum: ['active', 'completed', 'failed', 'expired', 'revoked'] },
    created_at: { type: 'string', format: 'date-time' },
    deadline: { type: 'string', format: 'date-time' },
    parent_task_id: { type: ['string', 'null'] },
  },
};

/** A credential record (never its secret, handle or hash). */
export const credentialSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    task_id: { type: 'string' },
    provider: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    issued_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    revocability: { type: 'string', enum: ['revocable', 'expires-only'] },
    status: { type: 'string' },
  },
};

/** OpenAPI security of authenticated routes: a JWT-SVID bearer token or an mTLS X509-SVID. */
export const callerSecurity: Record<string, string[]>[] = [{ bearer: [] }, { mutualTLS: [] }];
