/**
 * JSON Schemas of `POST /v1/signals` (ISSUE 4, anomaly signals). The JSON input is closed and bounded
 * like every input schema; the signal service then checks what a schema cannot (a SPIFFE ID, a task
 * id, the evidence's size and depth). Outputs list every member they serialize.
 */
import { revocationResultSchema, quarantineSchema } from './revocation-schemas.js';
import { errorSchema, LIMITS } from './schemas.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const RESPONSES = ['revoke_task', 'quarantine_workload', 'record_only'];

/** The JSON body: `{kind, severity, subject: {task_id} | {workload}, description?, evidence?, occurred_at?}`. */
export const signalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'severity', 'subject'],
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.-]+$' },
    severity: { type: 'string', enum: SEVERITIES },
    subject: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        task_id: { type: 'string', minLength: 1, maxLength: LIMITS.id },
        workload: { type: 'string', minLength: 1, maxLength: LIMITS.spiffeId },
      },
    },
    description: { type: 'string', minLength: 1, maxLength: LIMITS.text },
    evidence: { type: 'object', description: 'small JSON (4 KiB, 5 levels); never a secret' },
    occurred_at: { type: 'string', format: 'date-time', maxLength: 64 },
  },
};

/** A Security Event Token in compact serialization (the body of an RFC 8935 push). */
export const setBody = { type: 'string', minLength: 1, description: 'a signed SET (RFC 8417), compact JWS' };

/** The 202 answer. */
export const signalAcceptedSchema = {
  type: 'object',
  required: ['signal_id', 'kind', 'severity', 'response', 'rule'],
  properties: {
    signal_id: { type: 'string' },
    kind: { type: 'string' },
    severity: { type: 'string', enum: SEVERITIES },
    response: { type: 'string', enum: RESPONSES },
    rule: { type: 'string', description: 'the anomaly_responses rule that chose the response, or default' },
    revocation: revocationResultSchema,
    quarantine: quarantineSchema,
  },
};

/** A refusal: `{error: {code, message}}` for JSON, RFC 8935 §2.3 `{err, description, error_code}` for SETs. */
export const signalErrorSchema = {
  type: 'object',
  properties: {
    error: errorSchema.properties.error,
    err: { type: 'string' },
    description: { type: 'string' },
    error_code: { type: 'string' },
  },
};
