import type { ProviderRegistry } from '../../adapters/registry.js';
import type { Authenticator } from '../auth/authenticator.js';
import { BROKER_ERROR_CODES, BrokerError, type BrokerErrorCode } from '../errors.js';
import type { IssuanceService } from './issuance-service.js';

/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the subject token type of a JWT-SVID. */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** RFC 8693 §3: what is issued (an RFC 9068 JWT access token). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** The `resource` form naming a task: `urn:taskpass:task:<task id>`. */
export const TASK_RESOURCE_PREFIX = 'urn:taskpass:task:';

/** The form parameters of a token exchange request (RFC 8693 §2.1), as strings. */
export interface TokenExchangeParams {
  readonly grant_type?: string | undefined;
  readonly subject_token?: string | undefined;
  readonly subject_token_type?: string | undefined;
  readonly resource?: string | undefined;
  readonly audience?: string | undefined;
  readonly scope?: string | undefined;
  readonly requested_token_type?: string | undefined;
  readonly actor_token?: string | undefined;
}

/** RFC 8693 §2.2.1 successful response. Serve with `Cache-Control: no-store` (RFC 6749 §5.1). */
export interface TokenExchangeSuccess {
  readonly access_token: string;
  readonly issued_token_type: typeof ACCESS_TOKEN_TYPE;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/** RFC 6749 §5.2 error codes used here (plus RFC 6749 §4.1.2.1's server errors). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_target'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'server_error'
  | 'temporarily_unavailable';

/** The outcome, ready for a handler: an HTTP status and a JSON body. */
export type TokenExchangeResult =
  | { readonly ok: true; readonly status: 200; readonly body: TokenExchangeSuccess }
  | {
      readonly ok: false;
      readonly status: number;
      /** Our code, for logs and metrics. */
      readonly code: BrokerErrorCode | undefined;
      readonly body: { readonly error: OAuthErrorCode; readonly error_description: string };
    };

/** What {@link createTokenExchange} needs. */
export interface TokenExchangeDeps {
  readonly authenticator: Pick<Authenticator, 'authenticateBearer'>;
  readonly issuance: IssuanceService;
  readonly providers: Pick<ProviderRegistry, 'has' | 'get'>;
}

/** RFC 8693 token exchange. */
export interface TokenExchange {
  /** Never throws: every refusal is an RFC 6749 §5.2 error result. */
  exchange(params: TokenExchangeParams): Promise<TokenExchangeResult>;
}

const OAUTH_OF: Partial<Record<BrokerErrorCode, OAuthErrorCode>> = {
  // RFC 8693 §2.2.2: an invalid or unacceptable subject_token is `invalid_request`.
  BROKER_AUTH_MISSING: 'invalid_request',
  BROKER_AUTH_INVALID: 'invalid_request',
  BROKER_INPUT_INVALID: 'invalid_request',
  BROKER_TASK_NOT_FOUND: 'invalid_target',
  BROKER_TASK_ALREADY_ENDED: 'invalid_target',
  BROKER_ISSUANCE_TASK_EXPIRED: 'invalid_target',
  BROKER_ADAPTER_UNKNOWN_PROVIDER: 'invalid_target',
  BROKER_POLICY_DENIED: 'invalid_scope',
  BROKER_ISSUANCE_SVID_EXPIRED: 'invalid_grant',
  BROKER_ISSUANCE_TTL_TOO_SHORT: 'invalid_grant',
  BROKER_POLICY_QUOTA_EXCEEDED: 'invalid_request',
  BROKER_POLICY_RATE_LIMITED: 'invalid_request',
  BROKER_STORE_UNAVAILABLE: 'temporarily_unavailable',
  BROKER_ADAPTER_BACKEND_UNAVAILABLE: 'temporarily_unavailable',
};

function failure(error: OAuthErrorCode, description: string, code?: BrokerErrorCode): TokenExchangeResult {
  // RFC 6749 §5.2: 400 for client errors; our catalog's status for throttling and server faults.
  const catalog = code === undefined ? 400 : BROKER_ERROR_CODES[code].http;
  const status = catalog === 429 || catalog >= 500 ? catalog : 400;
  return { ok: false, status, code, body: { error, error_description: description } };
}

function fromError(err: unknown): TokenExchangeResult {
  if (!(err instanceof BrokerError)) return failure('server_error', 'internal error', 'BROKER_INTERNAL');
  const oauth =
    OAUTH_OF[err.code] ?? (BROKER_ERROR_CODES[err.code].http >= 500 ? 'server_error' : 'invalid_request');
  return failure(oauth, err.message, err.code);
}

/** Checks the parameters; returns the task id and provider or an error result. */
function parseParams(p: TokenExchangeParams): { taskId: string; provider: string } | TokenExchangeResult {
  if (p.grant_type !== TOKEN_EXCHANGE_GRANT)
    return failure('unsupported_grant_type', 'grant_type must be token-exchange');
  if (!p.subject_token) return failure('invalid_request', 'subject_token is required');
  if (p.subject_token_type !== JWT_TOKEN_TYPE)
    return failure('invalid_request', `subject_token_type must be ${JWT_TOKEN_TYPE}`);
  if (p.actor_token !== undefined) return failure('invalid_request', 'actor_token is not supported');
  const wanted = p.requested_token_type;
  if (wanted !== undefined && wanted !== ACCESS_TOKEN_TYPE && wanted !== JWT_TOKEN_TYPE) {
    return failure('invalid_request', 'requested_token_type is not supported');
  }
  if (!p.resource?.startsWith(TASK_RESOURCE_PREFIX) || p.resource.length === TASK_RESOURCE_PREFIX.length) {
    return failure('invalid_target', `resource must be ${TASK_RESOURCE_PREFIX}<task id>`);
  }
  if (!p.audience) return failure('invalid_target', 'audience must name a credential provider');
  return { taskId: p.resource.slice(TASK_RESOURCE_PREFIX.length), provider: p.audience };
}

/**
 * Creates the RFC 8693 token exchange (ISSUE 3: any OAuth client library can use the broker). The
 * mapping: `subject_token` is the caller's JWT-SVID (type `urn:ietf:params:oauth:token-type:jwt`,
 * audience the broker's), authenticated exactly as a bearer; `resource` is `urn:taskpass:task:<task id>`
 * and `audience` the provider name (e.g. `crm-api`, which must be a `jwt` provider: only task tokens are
 * exchanged); `scope` is space-separated (RFC 6749 §3.3), absent meaning the task manifest's. The
 * token comes from the issuance service, so every invariant of issuance holds (ledger first, TTL).
 * Errors follow RFC 6749 §5.2 (and RFC 8693 §2.2.2 for the subject token).
 */
export function createTokenExchange(deps: TokenExchangeDeps): TokenExchange {
  return Object.freeze({
    async exchange(params: TokenExchangeParams): Promise<TokenExchangeResult> {
      const parsed = parseParams(params);
      if ('ok' in parsed) return parsed;
      if (!deps.providers.has(parsed.provider) || deps.providers.get(parsed.provider).kind !== 'jwt') {
        return failure('invalid_target', 'audience is not a task token provider');
      }
      const scopes = (params.scope ?? '').split(' ').filter((s) => s !== '');
      try {
        const caller = await deps.authenticator.authenticateBearer(params.subject_token);
        const issued = await deps.issuance.issue(caller, {
          taskId: parsed.taskId,
          provider: parsed.provider,
          scopes,
        });
        const body: TokenExchangeSuccess = {
          access_token: issued.secret,
          issued_token_type: ACCESS_TOKEN_TYPE,
          token_type: 'Bearer',
          expires_in: issued.ttlSeconds,
          scope: issued.scopes.join(' '),
        };
        return { ok: true, status: 200, body };
      } catch (err) {
        return fromError(err);
      }
    },
  });
}
