// Security Event Tokens for the anomaly suites, minted at run time by a test JWT authority with a
// knob for every bad case (RFC 8417 SETs, CAEP/RISC events, RFC 9493 subject identifiers).
import { randomUUID } from 'node:crypto';
import { CAEP_EVENT_BASE, RISC_EVENT_BASE } from '../../../../broker/anomaly/set-events.js';
import { TestJwtAuthority, type JwtKnobs } from '../../../support/test-jwt.js';

export const DETECTOR = 'spiffe://taskpass.local/detectors/guard';
export const SESSION_REVOKED = `${CAEP_EVENT_BASE}session-revoked`;
export const CREDENTIAL_COMPROMISE = `${RISC_EVENT_BASE}credential-compromise`;
export const ACCOUNT_DISABLED = `${RISC_EVENT_BASE}account-disabled`;

/** What a minted SET carries; `null` omits a claim, anything else is used verbatim. */
export interface SetKnobs extends Omit<JwtKnobs, 'claims'> {
  readonly iss?: unknown;
  readonly jti?: unknown;
  readonly events?: unknown;
  readonly subId?: unknown;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** `sub_id` of a workload (RFC 9493 `uri` format). */
export const workloadSubject = (id: string): Record<string, unknown> => ({ format: 'uri', uri: id });
/** `sub_id` of a task (`urn:taskpass:task:<uuid>`). */
export const taskSubject = (taskId: string): Record<string, unknown> => ({
  format: 'uri',
  uri: `urn:taskpass:task:${taskId}`,
});

function put(claims: Record<string, unknown>, name: string, value: unknown, fallback: unknown): void {
  const v = value === undefined ? fallback : value;
  if (v !== null) claims[name] = v;
}

/**
 * Mints a SET signed by `authority`: by default `typ: secevent+jwt`, `iss` the detector, `aud` the
 * broker audience, a fresh `jti`, `iat` now, one CAEP session-revoked event about `subId`, no `sub`
 * and no `exp` (RFC 8417 §2.2).
 */
export function mintSet(authority: TestJwtAuthority, audience: string, knobs: SetKnobs = {}): string {
  const claims: Record<string, unknown> = {};
  put(claims, 'iss', knobs.iss, DETECTOR);
  put(claims, 'jti', knobs.jti, randomUUID());
  put(claims, 'events', knobs.events, { [SESSION_REVOKED]: { event_timestamp: 1735689600 } });
  put(claims, 'sub_id', knobs.subId, workloadSubject('spiffe://taskpass.local/agents/a1'));
  Object.assign(claims, knobs.claims);
  return authority.mint({
    ...knobs,
    typ: knobs.typ === undefined ? 'secevent+jwt' : knobs.typ,
    sub: knobs.sub === undefined ? null : knobs.sub,
    exp: knobs.exp === undefined ? null : knobs.exp,
    aud: knobs.aud === undefined ? audience : knobs.aud,
    claims,
  });
}
