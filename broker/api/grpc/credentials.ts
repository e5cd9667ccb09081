/**
 * Credential RPCs: `IssueCredential` (the task's workload) and `Introspect` (resource servers,
 * RFC 7662). The {@link CredentialPort} resolves only once the issuance event is committed (DESIGN.md
 * invariant 1), so the secret in the response is always on the ledger first.
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import { LIMITS } from '../http/schemas.js';
import type { HttpPorts, IssueCredentialInput } from '../ports.js';
import { unary, type HandlerContext } from './handler.js';
import type { IntrospectRequest, IssueCredentialRequest } from './proto.js';
import * as v from './validate.js';
import { credentialView, introspectionMessage } from './views.js';

/** `IssueCredentialRequest` → the port's input, with the HTTP API's limits. */
export function issueCredentialInput(req: IssueCredentialRequest): IssueCredentialInput {
  const ttl = v.ttlSeconds(req.ttl_seconds);
  return {
    taskId: v.uuid(req.task_id, 'task_id'),
    provider: v.name(req.provider, 'provider'),
    scopes: v.scopes(req.scopes, 'scopes'),
    ...(ttl !== undefined && { ttlSeconds: ttl }),
  };
}

/** The credential RPCs of the Broker service. */
export function credentialHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    IssueCredential: unary(ctx, async (caller, req: IssueCredentialRequest) => {
      const issued = await ports.credentials.issue(caller, issueCredentialInput(req));
      return { credential: credentialView(issued.credential), secret: issued.secret };
    }),
    Introspect: unary(ctx, async (caller, req: IntrospectRequest) => {
      const token = v.text(req.token, 'token', LIMITS.token);
      const hint = v.optionalText(req.token_type_hint, 'token_type_hint', LIMITS.name * 2);
      const answer = await ports.introspection.introspect(caller, {
        token,
        ...(hint !== undefined && { tokenTypeHint: hint }),
      });
      return introspectionMessage(answer);
    }),
  };
}
