import type { Severity } from './signal.js';

/** The base URI of the OpenID CAEP event types (CAEP 1.0 §3). */
export const CAEP_EVENT_BASE = 'https://schemas.openid.net/secevent/caep/event-type/';
/** The base URI of the OpenID RISC event types (RISC Profile 1.0 §2). */
export const RISC_EVENT_BASE = 'https://schemas.openid.net/secevent/risc/event-type/';

/** An event of a Security Event Token mapped to a signal kind and severity. */
export interface MappedEvent {
  readonly uri: string;
  readonly kind: string;
  readonly severity: Severity;
}

type Payload = Readonly<Record<string, unknown>>;
type SeverityOf = (payload: Payload) => Severity;

const fixed =
  (s: Severity): SeverityOf =>
  () =>
    s;

/** CAEP credential-change (§3.3): a credential revoked or deleted is worse than one created or updated. */
const credentialChange: SeverityOf = (p) =>
  p['change_type'] === 'revoke' || p['change_type'] === 'delete' ? 'high' : 'medium';

/** CAEP assurance-level-change (§3.4): only a decrease matters much. */
const assuranceChange: SeverityOf = (p) => (p['change_direction'] === 'decrease' ? 'medium' : 'low');

/** CAEP device-compliance-change (§3.5): a device that is no longer compliant. */
const complianceChange: SeverityOf = (p) => (p['current_status'] === 'not-compliant' ? 'high' : 'low');

/** CAEP risk-level-change: the transmitter's own LOW / MEDIUM / HIGH. */
const riskChange: SeverityOf = (p) => {
  const level = p['current_level'];
  if (level === 'HIGH') return 'high';
  if (level === 'LOW') return 'low';
  return 'medium';
};

/**
 * The mapping table of docs/anomaly.md: each supported CAEP or RISC event type URI → the signal kind
 * (`caep.<name>` / `risc.<name>`, dashes as underscores) and its severity (fixed, or read from the
 * event's own claims). Event types not listed are not supported.
 */
const TABLE: Readonly<Record<string, SeverityOf>> = Object.freeze({
  [`${CAEP_EVENT_BASE}session-revoked`]: fixed('high'),
  [`${CAEP_EVENT_BASE}credential-change`]: credentialChange,
  [`${CAEP_EVENT_BASE}token-claims-change`]: fixed('medium'),
  [`${CAEP_EVENT_BASE}assurance-level-change`]: assuranceChange,
  [`${CAEP_EVENT_BASE}device-compliance-change`]: complianceChange,
  [`${CAEP_EVENT_BASE}risk-level-change`]: riskChange,
  [`${CAEP_EVENT_BASE}session-established`]: fixed('low'),
  [`${CAEP_EVENT_BASE}session-presented`]: fixed('low'),
  [`${RISC_EVENT_BASE}credential-compromise`]: fixed('critical'),
  [`${RISC_EVENT_BASE}account-disabled`]: fixed('high'),
  [`${RISC_EVENT_BASE}account-purged`]: fixed('high'),
  [`${RISC_EVENT_BASE}sessions-revoked`]: fixed('high'),
  [`${RISC_EVENT_BASE}account-credential-change-required`]: fixed('medium'),
  [`${RISC_EVENT_BASE}identifier-recycled`]: fixed('medium'),
  [`${RISC_EVENT_BASE}recovery-activated`]: fixed('medium'),
  [`${RISC_EVENT_BASE}identifier-changed`]: fixed('low'),
  [`${RISC_EVENT_BASE}account-enabled`]: fixed('low'),
  [`${RISC_EVENT_BASE}recovery-information-changed`]: fixed('low'),
});

/** The supported event type URIs, for docs and tests. */
export const SUPPORTED_EVENT_TYPES: readonly string[] = Object.freeze(Object.keys(TABLE));

/** The signal kind of a supported event type URI: `caep.session_revoked`, `risc.credential_compromise`. */
function kindOf(uri: string): string {
  const family = uri.startsWith(CAEP_EVENT_BASE) ? 'caep' : 'risc';
  const base = family === 'caep' ? CAEP_EVENT_BASE : RISC_EVENT_BASE;
  return `${family}.${uri.slice(base.length).replaceAll('-', '_')}`;
}

/**
 * Maps one event of a SET's `events` claim (RFC 8417 §2.2) to a signal kind and severity, or
 * `undefined` for an event type the broker does not support.
 */
export function mapEvent(uri: string, payload: Payload): MappedEvent | undefined {
  if (!Object.hasOwn(TABLE, uri)) return undefined;
  const severityOf = TABLE[uri] as SeverityOf;
  return Object.freeze({ uri, kind: kindOf(uri), severity: severityOf(payload) });
}
