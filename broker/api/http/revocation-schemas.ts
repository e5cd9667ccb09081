/**
 * JSON Schemas of the revocation routes (ISSUE 4). Inputs are closed (`additionalProperties: false`)
 * and bounded, as every schema in `schemas.ts`; outputs list every member they serialize, so nothing
 * else (a handle, a secret hash) can reach a response.
 */
import { credentialSchema, cursorSchema, idSchema, LIMITS, limitQuerySchema } from './schemas.js';

const spiffeIdSchema = { type: 'string', minLength: 1, maxLength: LIMITS.spiffeId };
const reasonSchema = { type: 'string', minLength: 1, maxLength: LIMITS.text };
const timeSchema = { type: 'string', format: 'date-time', maxLength: 64 };

/** `selector` of `POST /v1/revocations`: every member given must hold. */
const selectorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    spiffe_id_prefix: spiffeIdSchema,
    spiffe_id_glob: spiffeIdSchema,
    trust_domain: { type: 'string', minLength: 1, maxLength: 255 },
    provider: idSchema,
    started_before: timeSchema,
  },
};

/** `POST /v1/revocations`: exactly one target, a reason, and `confirm` for broad selectors. */
export const revokeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: {
    credential_id: idSchema,
    task_id: idSchema,
    workload: spiffeIdSchema,
    selector: selectorSchema,
    reason: reasonSchema,
    confirm: { type: 'boolean' },
  },
  oneOf: [
    { required: ['credential_id'] },
    { required: ['task_id'] },
    { required: ['workload'] },
    { required: ['selector'] },
  ],
};

/** `POST /v1/quarantines` and `POST /v1/quarantines/lift`. */
export const quarantineBody = {
  type: 'object',
  additionalProperties: false,
  required: ['workload', 'reason'],
  properties: { workload: spiffeIdSchema, reason: reasonSchema },
};

/** `POST /v1/revocations/retry`: one credential, or every `revoke_failed` one without a body. */
export const retryBody = {
  type: 'object',
  additionalProperties: false,
  properties: { credential_id: idSchema },
};

/** `GET /v1/credentials`. */
export const credentialsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['active', 'revoked', 'expired', 'revoke_failed'] },
    task_id: idSchema,
    provider: idSchema,
    cursor: cursorSchema,
    limit: limitQuerySchema,
  },
};

/** The answer of a revocation. */
export const revocationResultSchema = {
  type: 'object',
  required: ['revocation_id', 'tasks', 'credentials', 'counts', 'exposed_until'],
  properties: {
    revocation_id: { type: 'string' },
    tasks: { type: 'array', items: { type: 'string' } },
    credentials: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'task_id', 'provider', 'outcome', 'expires_at'],
        properties: {
          id: { type: 'string' },
          task_id: { type: 'string' },
          provider: { type: 'string' },
          outcome: { type: 'string', enum: ['revoked', 'pending', 'not_revocable'] },
          expires_at: { type: 'string', format: 'date-time' },
        },
      },
    },
    counts: {
      type: 'object',
      required: ['revoked', 'pending', 'not_revocable'],
      properties: {
        revoked: { type: 'integer' },
        pending: { type: 'integer' },
        not_revocable: { type: 'integer' },
      },
    },
    exposed_until: {
      type: ['string', 'null'],
      description: 'latest expiry of the not_revocable credentials still alive',
    },
  },
};

/** A quarantine in force. */
export const quarantineSchema = {
  type: 'object',
  required: ['workload', 'reason', 'since', 'by'],
  properties: {
    workload: { type: 'string' },
    reason: { type: 'string' },
    since: { type: 'string', format: 'date-time' },
    by: { type: 'string', description: "an operator's SPIFFE ID, or signal:<id>" },
  },
};

/** A credential as operators list it: the record, when it was revoked, its revocation queue row. */
export const listedCredentialSchema = {
  type: 'object',
  properties: {
    ...credentialSchema.properties,
    revoked_at: { type: ['string', 'null'] },
    revocation: {
      type: ['object', 'null'],
      properties: {
        state: { type: 'string', enum: ['pending', 'failed', 'done'] },
        attempts: { type: 'integer' },
        last_error: { type: ['string', 'null'] },
        next_attempt_at: { type: ['string', 'null'] },
        outcome: { type: ['string', 'null'] },
      },
    },
  },
};
