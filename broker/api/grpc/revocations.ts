/**
 * Operator revocation RPCs over the {@link RevocationPort}: `Revoke`, `Quarantine`, `LiftQuarantine`,
 * `ListQuarantines`, `ListCredentials`, `RetryFailedRevocations`. The port decides that the caller is
 * an operator. A broker built without the revocation engine answers them UNIMPLEMENTED
 * (`BROKER_GRPC_UNIMPLEMENTED`), after authentication.
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import type { CredentialStatus } from '../../domain/credential.js';
import { BrokerError } from '../../errors.js';
import { LIMITS } from '../http/schemas.js';
import type {
  HttpPorts,
  RevocationPort,
  RevocationSelector,
  RevocationTarget,
  RevokeInput,
} from '../ports.js';
import { unary, type HandlerContext } from './handler.js';
import type {
  ListCredentialsRequest,
  QuarantineRequest,
  RetryFailedRevocationsRequest,
  RevocationSelectorMessage,
  RevokeRequest,
} from './proto.js';
import * as v from './validate.js';
import { credentialView, quarantineMessage, revocationMessage } from './views.js';

const CREDENTIAL_STATUSES: readonly CredentialStatus[] = ['active', 'revoked', 'expired', 'revoke_failed'];

/** @throws {BrokerError} `BROKER_GRPC_UNIMPLEMENTED` when the revocation engine is not wired. */
function revocationPort(ports: HttpPorts): RevocationPort {
  if (ports.revocations === undefined) {
    throw new BrokerError('BROKER_GRPC_UNIMPLEMENTED', 'revocation is not available');
  }
  return ports.revocations;
}

function selectorOf(s: RevocationSelectorMessage): RevocationSelector {
  const trustDomain = v.optionalText(s.trust_domain, 'selector.trust_domain', 255);
  const sel = {
    spiffeIdPrefix: v.optionalText(s.spiffe_id_prefix, 'selector.spiffe_id_prefix', LIMITS.spiffeId),
    spiffeIdGlob: v.optionalText(s.spiffe_id_glob, 'selector.spiffe_id_glob', LIMITS.spiffeId),
    // Parsed here so a bad name is refused with the SPIFFE rule it breaks.
    trustDomain: trustDomain === undefined ? undefined : TrustDomain.parse(trustDomain).name,
    provider: v.optionalName(s.provider, 'selector.provider'),
    startedBefore: v.optionalDateTime(s.started_before, 'selector.started_before'),
  };
  return Object.fromEntries(Object.entries(sel).filter(([, x]) => x !== undefined)) as RevocationSelector;
}

function targetOf(req: RevokeRequest): RevocationTarget {
  switch (req.target) {
    case 'credential_id':
      return { kind: 'credential', credentialId: v.uuid(req.credential_id, 'credential_id') };
    case 'task_id':
      return { kind: 'task', taskId: v.uuid(req.task_id, 'task_id') };
    case 'workload':
      return { kind: 'workload', workload: v.spiffeId(req.workload, 'workload') };
    case 'selector':
      return { kind: 'selector', selector: selectorOf(req.selector ?? {}) };
    default:
      throw v.invalid('target', 'give one of credential_id, task_id, workload, selector');
  }
}

/** `RevokeRequest` → the port's input. */
export function revokeInput(req: RevokeRequest): RevokeInput {
  return {
    target: targetOf(req),
    reason: v.text(req.reason, 'reason', LIMITS.text),
    ...(req.confirm === true && { confirm: true }),
  };
}

function quarantineInput(req: QuarantineRequest) {
  return {
    workload: v.spiffeId(req.workload, 'workload'),
    reason: v.text(req.reason, 'reason', LIMITS.text),
  };
}

function credentialFilter(req: ListCredentialsRequest) {
  const f = {
    status: v.optionalOneOf(req.status, CREDENTIAL_STATUSES, 'status'),
    taskId: v.optionalUuid(req.task_id, 'task_id'),
    provider: v.optionalName(req.provider, 'provider'),
    cursor: v.cursor(req.cursor),
    limit: v.pageLimit(req.limit),
  };
  return Object.fromEntries(Object.entries(f).filter(([, x]) => x !== undefined)) as Partial<typeof f>;
}

/** The operator revocation RPCs of the Broker service. */
export function revocationHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    Revoke: unary(ctx, async (caller, req: RevokeRequest) =>
      revocationMessage(await revocationPort(ports).revoke(caller, revokeInput(req))),
    ),
    Quarantine: unary(ctx, async (caller, req: QuarantineRequest) => {
      const { revocation, ...view } = await revocationPort(ports).quarantine(caller, quarantineInput(req));
      return { quarantine: quarantineMessage(view), revocation: revocationMessage(revocation) };
    }),
    LiftQuarantine: unary(ctx, async (caller, req: QuarantineRequest) => {
      await revocationPort(ports).lift(caller, quarantineInput(req));
      return {};
    }),
    ListQuarantines: unary(ctx, async (caller) => ({
      quarantines: (await revocationPort(ports).quarantines(caller)).map(quarantineMessage),
    })),
    ListCredentials: unary(ctx, async (caller, req: ListCredentialsRequest) => {
      const page = await revocationPort(ports).credentials(caller, credentialFilter(req));
      return { credentials: page.items.map(credentialView), next_cursor: page.nextCursor };
    }),
    RetryFailedRevocations: unary(ctx, async (caller, req: RetryFailedRevocationsRequest) => {
      const credentialId = v.optionalUuid(req.credential_id, 'credential_id');
      const { requeued } = await revocationPort(ports).retryFailed(caller, {
        ...(credentialId !== undefined && { credentialId }),
      });
      return { requeued };
    }),
  };
}
