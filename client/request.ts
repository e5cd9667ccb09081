import { BrokerError } from '../broker/errors.js';
import { BrokerApiError } from './api-error.js';
import type { Transport, TransportResponse } from './transport.js';

/** Query string values; an array repeats the parameter (`type=a&type=b`). */
export type QueryValues = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** One API call, as {@link createRequester} sends it. */
export interface ApiCall {
  readonly method: 'GET' | 'POST';
  /** Relative to the base URL, without a leading slash (`v1/tasks`). */
  readonly path: string;
  readonly query?: QueryValues;
  /** A JSON body. */
  readonly json?: unknown;
  /** An `application/x-www-form-urlencoded` body (the OAuth endpoints). */
  readonly form?: Readonly<Record<string, string>>;
  /** A body sent as is with its media type (a Security Event Token). */
  readonly body?: { readonly contentType: string; readonly text: string };
  readonly accept?: string;
}

/** Sends {@link ApiCall}s: the answer as is, or the broker's refusal as a {@link BrokerApiError}. */
export type Requester = (call: ApiCall) => Promise<TransportResponse>;

/** Appends `query` to `url`, skipping absent values. */
function withQuery(url: URL, query: QueryValues | undefined): URL {
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

/** The body of `res` as JSON, or `undefined` when it is not JSON. */
function jsonOf(res: TransportResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The refusal of a non-2xx answer: `{error: {code, message}}` (the API's shape), RFC 6749 §5.2
 * `{error, error_description, error_code}` (the OAuth endpoints) or RFC 8935 §2.3 `{err,
 * description, error_code}` (a refused Security Event Token), with the server's code unchanged.
 * Anything else (a proxy's page) is `BROKER_CLIENT_BAD_RESPONSE` naming only the status.
 */
export function refusalOf(res: TransportResponse): Error {
  const body = jsonOf(res);
  if (isRecord(body)) {
    const err = body['error'];
    if (isRecord(err) && typeof err['code'] === 'string') {
      return new BrokerApiError(err['code'], String(err['message'] ?? ''), res.status);
    }
    if (typeof err === 'string') {
      const code = typeof body['error_code'] === 'string' ? body['error_code'] : err;
      return new BrokerApiError(code, String(body['error_description'] ?? err), res.status);
    }
    const setErr = body['err'];
    if (typeof setErr === 'string') {
      const code = typeof body['error_code'] === 'string' ? body['error_code'] : setErr;
      return new BrokerApiError(code, String(body['description'] ?? setErr), res.status);
    }
  }
  return new BrokerError('BROKER_CLIENT_BAD_RESPONSE', `http status ${res.status}`);
}

/**
 * Reads a 2xx answer as a JSON object (or `undefined` for an empty body, e.g. 204).
 *
 * @throws {BrokerError} `BROKER_CLIENT_BAD_RESPONSE` when the body is not a JSON object.
 */
export function jsonBody<T>(res: TransportResponse): T {
  if (res.body === '') return undefined as T;
  const body = jsonOf(res);
  if (!isRecord(body)) throw new BrokerError('BROKER_CLIENT_BAD_RESPONSE', 'the body is not a json object');
  return body as T;
}

/**
 * A requester over `transport` for the API at `base` (which ends in `/`): adds the caller's
 * `authorization` header (fetched per call, so a rotating JWT-SVID source stays current), the body
 * and `accept`, bounds the call by `timeoutMs`, and turns non-2xx answers into errors.
 */
export function createRequester(
  base: URL,
  transport: Transport,
  authorization: () => Promise<Readonly<Record<string, string>>>,
  timeoutMs: number,
): Requester {
  return async (call) => {
    const url = withQuery(new URL(call.path, base), call.query);
    const headers: Record<string, string> = { accept: call.accept ?? 'application/json' };
    let body: string | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(call.form).toString();
    } else if (call.body !== undefined) {
      headers['content-type'] = call.body.contentType;
      body = call.body.text;
    }
    Object.assign(headers, await authorization());
    const res = await transport(
      { method: call.method, url, headers, ...(body !== undefined && { body }) },
      timeoutMs,
    );
    if (res.status < 200 || res.status > 299) throw refusalOf(res);
    return res;
  };
}
