/**
 * Detector RPCs over the {@link SignalPort}: `SubmitSignal` (a signal as `POST /v1/signals` takes it
 * in JSON) and `DeliverSet` (a Security Event Token, as RFC 8935 push delivery carries it). The port
 * decides that the caller holds the `detector` role, verifies the SET and applies the policy's
 * `anomaly_responses` before answering. A broker built without anomaly signals answers them
 * UNIMPLEMENTED (`BROKER_GRPC_UNIMPLEMENTED`), after authentication.
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { fromStruct } from '../../../spiffe/workload-api/struct-codec.js';
import { BrokerError } from '../../errors.js';
import { LIMITS } from '../http/schemas.js';
import type { HttpPorts, SignalAccepted, SignalPort, SignalSeverity, SignalSubmission } from '../ports.js';
import { unary, type HandlerContext } from './handler.js';
import type { DeliverSetRequest, SignalSubjectMessage, SubmitSignalRequest } from './proto.js';
import * as v from './validate.js';
import { quarantineMessage, revocationMessage } from './views.js';

const SEVERITIES: readonly SignalSeverity[] = ['low', 'medium', 'high', 'critical'];
/** A signal kind, as the HTTP API's schema has it (the signal service checks the reserved prefix). */
const KIND = /^[a-z0-9_.-]+$/;
const MAX_KIND = 64;

/** @throws {BrokerError} `BROKER_GRPC_UNIMPLEMENTED` when anomaly signals are not wired. */
function signalPort(ports: HttpPorts): SignalPort {
  if (ports.signals === undefined) {
    throw new BrokerError('BROKER_GRPC_UNIMPLEMENTED', 'anomaly signals are not available');
  }
  return ports.signals;
}

/** The one subject; a bad workload is `BROKER_INPUT_INVALID`, as on HTTP. */
function subjectOf(s: SignalSubjectMessage | undefined): SignalSubmission['subject'] {
  switch (s?.subject) {
    case 'task_id':
      return { taskId: v.uuid(s.task_id, 'subject.task_id') };
    case 'workload': {
      const workload = v.text(s.workload, 'subject.workload', LIMITS.spiffeId);
      try {
        return { workload: SpiffeId.parse(workload) };
      } catch (err) {
        throw new BrokerError('BROKER_INPUT_INVALID', 'subject.workload: must be a spiffe id', {
          cause: err,
        });
      }
    }
    default:
      throw v.invalid('subject', 'give one of task_id, workload');
  }
}

/** The evidence Struct as JSON; its size and depth are the signal service's to check. */
function evidenceOf(req: SubmitSignalRequest): Record<string, unknown> | undefined {
  if (req.evidence === undefined) return undefined;
  try {
    return fromStruct(req.evidence);
  } catch (err) {
    throw new BrokerError('BROKER_INPUT_INVALID', 'evidence: a value has no kind', { cause: err });
  }
}

/** `SubmitSignalRequest` → the port's submission, with the HTTP API's limits. */
export function signalSubmission(req: SubmitSignalRequest): SignalSubmission {
  const kind = v.text(req.kind, 'kind', MAX_KIND);
  if (!KIND.test(kind)) throw v.invalid('kind', 'may contain only a-z, 0-9 and _ . -');
  const severity = v.oneOf(req.severity, SEVERITIES, 'severity');
  const subject = subjectOf(req.subject);
  const description = v.optionalText(req.description, 'description', LIMITS.text);
  const evidence = evidenceOf(req);
  const occurredAt = v.optionalDateTime(req.occurred_at, 'occurred_at');
  return {
    kind,
    severity,
    subject,
    ...(description !== undefined && { description }),
    ...(evidence !== undefined && { evidence }),
    ...(occurredAt !== undefined && { occurredAt }),
  };
}

/** `SignalAccepted`: the HTTP API's 202 answer, member by member. */
export function signalAcceptedMessage(a: SignalAccepted): Record<string, unknown> {
  return {
    signal_id: a.signalId,
    kind: a.kind,
    severity: a.severity,
    response: a.response,
    rule: a.rule,
    ...(a.revocation && { revocation: revocationMessage(a.revocation) }),
    ...(a.quarantine && { quarantine: quarantineMessage(a.quarantine) }),
  };
}

/** The detector RPCs of the Broker service. */
export function signalHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    SubmitSignal: unary(ctx, async (caller, req: SubmitSignalRequest) =>
      signalAcceptedMessage(await signalPort(ports).submit(caller, signalSubmission(req))),
    ),
    DeliverSet: unary(ctx, async (caller, req: DeliverSetRequest) => {
      // The port bounds the token's size (BROKER_SET_TOO_LARGE) before parsing it.
      const set = v.text(req.set, 'set', Number.MAX_SAFE_INTEGER);
      return signalAcceptedMessage(await signalPort(ports).deliverSet(caller, set));
    }),
  };
}
