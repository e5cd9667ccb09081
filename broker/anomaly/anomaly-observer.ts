import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { BrokerErrorCode } from '../errors.js';

/** A credential request the issuance service refused. */
export interface CredentialDeniedEvent {
  readonly workload: SpiffeId;
  readonly taskId: string;
  readonly provider: string;
  /** The ledger's machine-readable class of the refusal (`rate`, `scope_manifest`, `task`, …). */
  readonly why: string;
  readonly code: BrokerErrorCode;
  readonly now: Date;
}

/** A JWT-SVID refused because it was presented again where replay protection is on. */
export interface SvidReplayedEvent {
  readonly workload: SpiffeId;
  readonly now: Date;
}

/** A task token that verified and is known to the ledger, introspected after its task ended. */
export interface EndedTaskIntrospectedEvent {
  readonly workload: SpiffeId;
  readonly taskId: string;
  readonly credentialId: string;
  /** The task's status (`completed`, `failed`, `expired`, `revoked`). */
  readonly taskStatus: string;
  readonly now: Date;
}

/**
 * The hooks the broker's hot paths call for the built-in anomaly detectors (docs/anomaly.md). Each
 * call is synchronous, does no I/O and never throws: an implementation counts in memory and raises
 * signals off the caller's path. The services default to {@link NO_ANOMALY_OBSERVER}.
 */
export interface AnomalyObserver {
  /** The issuance service refused a credential request (`broker/issuance/issuance-service.ts`). */
  credentialDenied(event: CredentialDeniedEvent): void;
  /** The authenticator refused a replayed JWT-SVID (`broker/auth/authenticator.ts`). */
  svidReplayed(event: SvidReplayedEvent): void;
  /** Introspection answered inactive because the token's task ended (`broker/introspection/`). */
  endedTaskIntrospected(event: EndedTaskIntrospectedEvent): void;
}

/** The observer that does nothing (the default of every service). */
export const NO_ANOMALY_OBSERVER: AnomalyObserver = Object.freeze({
  credentialDenied: () => undefined,
  svidReplayed: () => undefined,
  endedTaskIntrospected: () => undefined,
});
