/**
 * The taskpass TypeScript client (DESIGN.md users table: "TS client"): a typed client of the broker's
 * HTTP API for workloads, operators and auditors, identified by a JWT-SVID (fixed, or fresh from the
 * SPIFFE Workload API) or an X509-SVID over mTLS. The `taskpass` CLI's broker commands are built on it.
 *
 * ```ts
 * const svids = createWorkloadApiJwtSource({ socketPath: process.env.SPIFFE_ENDPOINT_SOCKET!,
 *   audience: 'taskpass-broker', clock: systemClock });
 * const broker = createTaskpassClient({ baseUrl: 'http://127.0.0.1:8080',
 *   credentials: { jwtSvid: () => svids.token() } });
 * const task = await broker.startTask({ intent: { name: 'summarize-ticket' },
 *   manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }] });
 * const { secret } = await broker.issueCredential(task.id, { provider: 'crm-api', scopes: ['crm:read'] });
 * await broker.completeTask(task.id);
 * svids.close();
 * ```
 *
 * @packageDocumentation
 */
export { BrokerApiError } from './api-error.js';
export {
  createTaskpassClient,
  type TaskpassClient,
  type TaskpassClientOptions,
  type TaskpassCredentials,
} from './client.js';
export { httpsTransport, type TlsTransportOptions } from './tls-transport.js';
export {
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';
export {
  createWorkloadApiJwtSource,
  type JwtSvidSource,
  type WorkloadApiJwtSourceOptions,
} from './workload-api-jwt-source.js';
export type * from './types.js';
