/**
 * The adapter from the {@link App}'s services to the HTTP layer's {@link HttpPorts}: a thin mapping
 * of names and shapes. Authorization stays in the services (task ownership, operator role for the
 * task list); the two checks the services do not make are made here, with the policy in force:
 *
 * - audit queries and chain verification need the `auditor` role (`authorizeRole`);
 * - introspection and the revocation feed need the `resource_server` or the `operator` role
 *   (see {@link introspectionPort}).
 *
 * @packageDocumentation
 */
import type { App } from '../app.js';
import type { Caller as ServiceCaller } from '../auth/authenticator.js';
import { BROKER_ERROR_CODES, BrokerError, type BrokerErrorCode } from '../errors.js';
import type { IssuedTaskCredential } from '../issuance/issuance-service.js';
import {
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeResult as ServiceExchangeResult,
} from '../issuance/token-exchange.js';
import { verifyChain } from '../ledger/hash-chain.js';
import { authorizeRole } from '../policy/match-rule.js';
import type { Role } from '../policy/policy-types.js';
import { OAuthRefusal } from './http/oauth-errors.js';
import type {
  AuditPort,
  Caller,
  HttpPorts,
  IntrospectionPort,
  IssuedCredentialView,
  RevocationFeedPort,
  SignalPort,
  TaskPort,
  TokenExchangeInput,
  TokenExchangePort,
  TokenExchangeResult,
} from './ports.js';

/**
 * Builds the HTTP ports over `app`. The ports hold no state of their own: every call reads the
 * app's services (and the policy in force at that moment, so a reload applies to the next request).
 */
export function httpPortsFromApp(app: App): HttpPorts {
  const ports: HttpPorts = {
    authenticate: (facts) =>
      facts.bearer !== undefined
        ? app.authenticator.authenticateBearer(facts.bearer)
        : app.authenticator.authenticatePeer(facts.peerCertificates ?? []),
    tasks: taskPort(app),
    credentials: {
      issue: async (caller, input) => credentialView(await app.issuance.issue(caller, input)),
    },
    tokenExchange: tokenExchangePort(app),
    introspection: introspectionPort(app),
    revocationFeed: revocationFeedPort(app),
    audit: auditPort(app),
    revocations: app.revocations,
    revocationMetrics: { snapshot: () => app.revocation.metrics() },
    signals: signalPort(app),
    keys: { jwks: async () => app.jwks() },
    health: { ready: async () => ({ store: await app.ready() }) },
  };
  return Object.freeze(ports);
}

function taskPort(app: App): TaskPort {
  return {
    start: (caller, input) =>
      app.tasks.start(caller, {
        intent: input.intent,
        manifest: input.manifest,
        ttlSeconds: input.ttlSeconds,
        parent: input.parentTaskId,
      }),
    get: (caller, id) => app.tasks.get(caller, id),
    complete: async (caller, id) => (await app.tasks.complete(caller, id)).task,
    fail: async (caller, id, reason) => (await app.tasks.fail(caller, id, reason)).task,
    list: (caller, filter) => app.tasks.list(caller, filter),
  };
}

/** The issued credential as the HTTP layer shows it: the record (status `active`) and the secret. */
function credentialView(issued: IssuedTaskCredential): IssuedCredentialView {
  return {
    credential: {
      id: issued.credentialId,
      taskId: issued.taskId,
      provider: issued.provider,
      scopes: issued.scopes,
      issuedAt: issued.issuedAt,
      expiresAt: issued.expiresAt,
      revocability: issued.revocability,
      status: 'active',
    },
    secret: issued.secret,
  };
}

/** @throws {BrokerError} `BROKER_POLICY_DENIED` unless `caller` holds `role` in the policy in force. */
function requireRole(app: App, caller: ServiceCaller, role: Role): void {
  const decision = authorizeRole(app.policy.current(), caller.id, role);
  if (!decision.allowed) throw new BrokerError('BROKER_POLICY_DENIED', decision.reason);
}

function auditPort(app: App): AuditPort {
  return {
    async query(caller, query) {
      requireRole(app, caller, 'auditor');
      return app.store.queryEvents(query);
    },
    async verify(caller) {
      requireRole(app, caller, 'auditor');
      return verifyChain(app.chain);
    },
  };
}

/**
 * @throws {BrokerError} `BROKER_POLICY_DENIED` unless `caller` holds the `resource_server` or the
 *   `operator` role: the callers that check tokens (resource servers) or investigate them (operators).
 */
export function requireResourceServer(app: App, caller: ServiceCaller): void {
  const policy = app.policy.current();
  if (authorizeRole(policy, caller.id, 'operator').allowed) return;
  requireRole(app, caller, 'resource_server');
}

/**
 * RFC 7662 introspection. The caller has been authenticated by its SVID (RFC 7662 §2.1 requires the
 * protected resource to authenticate) before this runs, and must be a resource server or an operator
 * (RFC 7662 §4: the endpoint must not be open to token scanning by any client).
 */
function introspectionPort(app: App): IntrospectionPort {
  return {
    async introspect(caller: Caller, input) {
      requireResourceServer(app, caller);
      return app.introspector.introspect(input.token);
    },
  };
}

/** The revocation push feed (ISSUE 4), for resource servers and operators. */
function revocationFeedPort(app: App): RevocationFeedPort {
  return {
    async subscribe(caller, options, onEvent, onError) {
      requireResourceServer(app, caller);
      return app.revocationFeed.subscribe(options, onEvent, onError);
    },
  };
}

/** Anomaly signals (ISSUE 4): the signal service checks the `detector` role itself. */
function signalPort(app: App): SignalPort {
  return {
    submit: (caller, input) => app.anomaly.signals.signal(caller, input),
    deliverSet: (caller, token) => app.anomaly.signals.deliverSet(caller, token),
  };
}

/** RFC 8693 through the token exchange service, whose refusals become thrown errors here. */
function tokenExchangePort(app: App): TokenExchangePort {
  return {
    async exchange(input: TokenExchangeInput): Promise<TokenExchangeResult> {
      if (input.resources.length > 1 || input.audiences.length > 1) {
        throw new OAuthRefusal('invalid_request', 'give one resource (the task) and one audience');
      }
      const result = await app.tokenExchange.exchange({
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: input.subjectToken,
        subject_token_type: input.subjectTokenType,
        resource: input.resources[0],
        audience: input.audiences[0],
        scope: input.scopes.length > 0 ? input.scopes.join(' ') : undefined,
        requested_token_type: input.requestedTokenType,
      });
      if (!result.ok) throw exchangeError(result);
      return {
        accessToken: result.body.access_token,
        issuedTokenType: result.body.issued_token_type,
        tokenType: result.body.token_type,
        expiresInSeconds: result.body.expires_in,
        scopes: result.body.scope.split(' ').filter((s) => s !== ''),
      };
    },
  };
}

/** The thrown form of a refused exchange, so the OAuth error handler maps it by the one table. */
function exchangeError(result: Extract<ServiceExchangeResult, { ok: false }>): Error {
  const { error, error_description: description } = result.body;
  if (result.code !== undefined) return new BrokerError(result.code, detailOf(result.code, description));
  if (error === 'unsupported_grant_type' || error === 'invalid_request') {
    return new OAuthRefusal(error, description);
  }
  // `invalid_target` without a code: the resource is not a task, or the audience not a task token provider.
  if (description.startsWith('audience')) {
    return new BrokerError('BROKER_ADAPTER_UNKNOWN_PROVIDER', description);
  }
  return new BrokerError('BROKER_TASK_NOT_FOUND', description);
}

/** The detail part of a message built as `<catalog message>: <detail>`. */
function detailOf(code: BrokerErrorCode, message: string): string | undefined {
  const base = BROKER_ERROR_CODES[code].message;
  if (message === base) return undefined;
  return message.startsWith(`${base}: `) ? message.slice(base.length + 2) : message;
}
