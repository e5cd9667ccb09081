import type { FastifyReply, FastifyRequest } from 'fastify';
import { logRefusal, sendError, translateFastifyError } from './error-handler.js';
import { describeError, type HttpErrorView } from './error-status.js';

/** The media type of RFC 8935 push delivery (RFC 8417 §7.2). */
export const SECEVENT_MEDIA_TYPE = 'application/secevent+jwt';

/** The error codes of RFC 8935 §2.4 (IANA "Security Event Token Error Codes"). */
export type SetErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed'
  | 'access_denied';

/** RFC 8935 §2.3's error body, plus our catalog code in `error_code` (an extension member). */
export interface SetErrorBody {
  readonly err: SetErrorCode;
  readonly description: string;
  readonly error_code: string;
}

const BY_CODE: Readonly<Record<string, SetErrorCode>> = Object.freeze({
  BROKER_SET_INVALID_KEY: 'invalid_key',
  BROKER_SET_INVALID_ISSUER: 'invalid_issuer',
  BROKER_SET_INVALID_AUDIENCE: 'invalid_audience',
});

/**
 * The RFC 8935 §2.4 error code of a refusal: our three key, issuer and audience codes by name; a
 * missing or bad SVID (401) `authentication_failed`; a caller without the detector role (403)
 * `access_denied`; anything else the recipient refuses `invalid_request`.
 */
export function setErrorCode(view: HttpErrorView): SetErrorCode {
  const named = BY_CODE[view.code];
  if (named !== undefined) return named;
  if (view.status === 401) return 'authentication_failed';
  if (view.status === 403) return 'access_denied';
  return 'invalid_request';
}

/** True when the request pushes a SET (`Content-Type: application/secevent+jwt`, any parameters). */
export function isSetDelivery(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.trim().toLowerCase().startsWith(SECEVENT_MEDIA_TYPE);
}

/**
 * Answers a refused SET delivery as RFC 8935 §2.3 does — a JSON object `{err, description}` — with
 * the HTTP status of the one table (400 for a bad SET, 401 and 403 for the caller) and our code in
 * `error_code`. Failures on our side (5xx) are not the transmitter's error: they keep the API's
 * `{error: {code, message}}` shape, and the transmitter retries.
 */
export function sendSetError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const view = describeError(translateFastifyError(err));
  if (view.status >= 500) return sendError(err, request, reply);
  logRefusal(request, view, err);
  if (view.status === 401) void reply.header('www-authenticate', 'Bearer realm="taskpass"');
  const body: SetErrorBody = { err: setErrorCode(view), description: view.message, error_code: view.code };
  return reply.code(view.status).send(body);
}
