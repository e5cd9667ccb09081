import { BrokerError } from '../broker/errors.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { createRequester, jsonBody, type QueryValues, type Requester } from './request.js';
import { httpsTransport } from './tls-transport.js';
import { fetchTransport, type Transport } from './transport.js';
import type {
  AuditCsvPage,
  AuditPage,
  AuditQuery,
  AuditVerification,
  CredentialPage,
  Introspection,
  IssueCredentialRequest,
  IssuedCredential,
  ListCredentialsQuery,
  ListTasksQuery,
  Quarantine,
  QuarantineRequest,
  RetryResult,
  RevocationResult,
  RevokeRequest,
  SignalAccepted,
  SignalRequest,
  StartTaskRequest,
  Task,
  TaskPage,
} from './types.js';

/**
 * How the client proves who it is (DESIGN.md "Interfaces: HTTP"): a JWT-SVID for the broker's
 * audience sent as `Authorization: Bearer` — a fixed token, or a function returning a fresh one (see
 * `createWorkloadApiJwtSource`) — or an X509-SVID presented over mTLS to an https broker.
 */
export type TaskpassCredentials =
  | { readonly jwtSvid: string | (() => Promise<string>) }
  | { readonly x509: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array } };

/** Options of {@link createTaskpassClient}. */
export interface TaskpassClientOptions {
  /** The broker's base URL, e.g. `http://127.0.0.1:8080` or `https://taskpass.example.org`. */
  readonly baseUrl: string | URL;
  readonly credentials: TaskpassCredentials;
  /**
   * For an https broker that presents an X509-SVID: X.509 roots (PEM) to authenticate it by SPIFFE
   * ID, and optionally its exact ID (default: any ID in the caller's own trust domain when the caller
   * has an X509-SVID, else any ID the roots vouch for). Without `ca`: system roots and the DNS name.
   */
  readonly tls?: { readonly ca?: string | Uint8Array; readonly serverId?: SpiffeId };
  /** A `fetch` to use for plain HTTP and web-PKI HTTPS (default: Node's). */
  readonly fetch?: typeof fetch;
  /** Bound on each call, connection to last byte (default 30 000 ms). */
  readonly timeoutMs?: number;
  /**
   * Send a bearer SVID over plain HTTP to a host that is not loopback. Off by default: a JWT-SVID is
   * a bearer secret, and only `taskpass dev` on 127.0.0.1 serves plain HTTP by design.
   */
  readonly allowInsecureHttp?: boolean;
}

/** A typed client of the broker's HTTP API; every method answers the API's JSON unchanged. */
export interface TaskpassClient {
  /** `POST /v1/tasks`. */
  startTask(request: StartTaskRequest): Promise<Task>;
  /** `GET /v1/tasks/:id`. */
  getTask(id: string): Promise<Task>;
  /** `POST /v1/tasks/:id/complete`: ends the task; the broker revokes its credentials. */
  completeTask(id: string): Promise<Task>;
  /** `POST /v1/tasks/:id/fail`. */
  failTask(id: string, reason?: string): Promise<Task>;
  /** `POST /v1/tasks/:id/credentials`: the secret is returned once. */
  issueCredential(taskId: string, request: IssueCredentialRequest): Promise<IssuedCredential>;
  /** `GET /v1/tasks` (operators). */
  listTasks(query?: ListTasksQuery): Promise<TaskPage>;
  /** `POST /oauth2/introspect` (RFC 7662; resource servers and operators). */
  introspect(token: string, tokenTypeHint?: string): Promise<Introspection>;
  /** `GET /v1/audit/events` as JSON (auditors). */
  auditQuery(query?: AuditQuery): Promise<AuditPage>;
  /** `GET /v1/audit/events` as CSV; the next cursor comes from the `Link` header (RFC 8288). */
  auditQueryCsv(query?: AuditQuery): Promise<AuditCsvPage>;
  /** `GET /v1/audit/verify`. */
  auditVerify(): Promise<AuditVerification>;
  /** `POST /v1/revocations` (operators). */
  revoke(request: RevokeRequest): Promise<RevocationResult>;
  /** `POST /v1/quarantines` (operators): the workload's tasks are revoked. */
  quarantine(request: QuarantineRequest): Promise<Quarantine & { readonly revocation: RevocationResult }>;
  /** `POST /v1/quarantines/lift` (operators); resolves once lifted (204). */
  liftQuarantine(request: QuarantineRequest): Promise<void>;
  /** `GET /v1/quarantines` (operators). */
  listQuarantines(): Promise<{ readonly quarantines: readonly Quarantine[] }>;
  /** `GET /v1/credentials` (operators), e.g. `status: 'revoke_failed'`. */
  listCredentials(query?: ListCredentialsQuery): Promise<CredentialPage>;
  /** `POST /v1/revocations/retry` (operators): requeue `revoke_failed` credentials, one or all. */
  retryFailedRevocations(request?: { readonly credential_id?: string }): Promise<RetryResult>;
  /** `POST /v1/signals` (detectors): the broker applies the policy's response before answering. */
  submitSignal(request: SignalRequest): Promise<SignalAccepted>;
  /**
   * `POST /v1/signals` as `application/secevent+jwt` (detectors): pushes a Security Event Token
   * (RFC 8417) signed by the caller, as RFC 8935 delivers it. A refused SET rejects with the
   * `BROKER_SET_*` code the broker puts in `error_code` of its RFC 8935 §2.3 answer.
   */
  deliverSet(set: string): Promise<SignalAccepted>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** The base URL, checked, with a trailing slash so relative paths keep any path prefix. */
function baseUrlOf(opts: TaskpassClientOptions): URL {
  let url: URL;
  try {
    url = new URL(String(opts.baseUrl));
  } catch {
    throw new BrokerError('BROKER_CONFIG_INVALID', 'broker url is not a url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BrokerError('BROKER_CONFIG_INVALID', 'broker url must be http or https');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    throw new BrokerError('BROKER_CONFIG_INVALID', 'broker url must not carry user info, query or fragment');
  if (url.protocol === 'http:') {
    if ('x509' in opts.credentials || opts.tls?.ca !== undefined)
      throw new BrokerError('BROKER_CONFIG_INVALID', 'an x509-svid or a ca needs an https broker url');
    if (!LOOPBACK.test(url.hostname) && opts.allowInsecureHttp !== true)
      throw new BrokerError(
        'BROKER_CONFIG_INVALID',
        'plain http to a host that is not loopback would expose the bearer svid; use https',
      );
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function transportOf(opts: TaskpassClientOptions, base: URL): Transport {
  const x509 = 'x509' in opts.credentials ? opts.credentials.x509 : undefined;
  if (base.protocol === 'https:' && (x509 !== undefined || opts.tls?.ca !== undefined)) {
    return httpsTransport({ ...x509, ...opts.tls });
  }
  return fetchTransport(opts.fetch);
}

/**
 * Creates a client of the broker's HTTP API (DESIGN.md users table: "TS client"), for workloads,
 * operators and auditors alike; what each may do is the broker's policy's decision.
 *
 * Every method rejects with a `BrokerApiError` carrying the broker's code unchanged when the broker
 * refuses, or a `BrokerError` `BROKER_CLIENT_UNREACHABLE` / `BROKER_CLIENT_TIMEOUT` /
 * `BROKER_CLIENT_BAD_RESPONSE` when no usable answer came; calls never hang past `timeoutMs`.
 *
 * @throws {BrokerError} `BROKER_CONFIG_INVALID` for an unusable URL, timeout or TLS combination;
 *   {@link SpiffeError} when `x509.cert` is not an X509-SVID or `tls.ca` holds no certificate.
 */
export function createTaskpassClient(opts: TaskpassClientOptions): TaskpassClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new BrokerError('BROKER_CONFIG_INVALID', 'timeout must be a positive number of milliseconds');
  const base = baseUrlOf(opts);
  const creds = opts.credentials;
  const authorization = async (): Promise<Record<string, string>> => {
    if (!('jwtSvid' in creds)) return {};
    const token = typeof creds.jwtSvid === 'string' ? creds.jwtSvid : await creds.jwtSvid();
    return { authorization: `Bearer ${token}` };
  };
  return clientMethods(createRequester(base, transportOf(opts, base), authorization, timeoutMs));
}

const seg = encodeURIComponent;
/** The media type of a pushed Security Event Token (RFC 8417 §7.2, RFC 8935 §2). */
const SECEVENT_MEDIA_TYPE = 'application/secevent+jwt';

/** The `Link: <…>; rel="next"` target's `cursor` (RFC 8288 §3), or null. */
function nextCursorOf(link: string | undefined): string | null {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(link ?? '');
  // The target is a path-absolute reference to the same API: any base resolves it.
  return match ? new URL(match[1]!, 'http://broker.invalid/').searchParams.get('cursor') : null;
}

function clientMethods(call: Requester): TaskpassClient {
  const json = async <T>(c: Parameters<Requester>[0]): Promise<T> => jsonBody<T>(await call(c));
  const get = <T>(path: string, query?: object): Promise<T> =>
    json<T>({ method: 'GET', path, ...(query && { query: query as QueryValues }) });
  const post = <T>(path: string, body?: unknown): Promise<T> =>
    json<T>({ method: 'POST', path, ...(body !== undefined && { json: body }) });
  return {
    startTask: (request) => post('v1/tasks', request),
    getTask: (id) => get(`v1/tasks/${seg(id)}`),
    completeTask: (id) => post(`v1/tasks/${seg(id)}/complete`),
    failTask: (id, reason) => post(`v1/tasks/${seg(id)}/fail`, reason === undefined ? undefined : { reason }),
    issueCredential: (taskId, request) => post(`v1/tasks/${seg(taskId)}/credentials`, request),
    listTasks: (query = {}) => get('v1/tasks', query),
    introspect: (token, hint) =>
      json({
        method: 'POST',
        path: 'oauth2/introspect',
        form: { token, ...(hint !== undefined && { token_type_hint: hint }) },
      }),
    auditQuery: (query = {}) => get('v1/audit/events', { ...query, format: 'json' }),
    async auditQueryCsv(query = {}) {
      const path = 'v1/audit/events';
      const res = await call({ method: 'GET', path, query: { ...query, format: 'csv' }, accept: 'text/csv' });
      return { csv: res.body, next_cursor: nextCursorOf(res.header('link')) };
    },
    auditVerify: () => get('v1/audit/verify'),
    revoke: (request) => post('v1/revocations', request),
    quarantine: (request) => post('v1/quarantines', request),
    liftQuarantine: (request) => post('v1/quarantines/lift', request),
    listQuarantines: () => get('v1/quarantines'),
    listCredentials: (query = {}) => get('v1/credentials', query),
    retryFailedRevocations: (request = {}) => post('v1/revocations/retry', request),
    submitSignal: (request) => post('v1/signals', request),
    deliverSet: (set) =>
      json({ method: 'POST', path: 'v1/signals', body: { contentType: SECEVENT_MEDIA_TYPE, text: set } }),
  };
}
