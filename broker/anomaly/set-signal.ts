import { BrokerError } from '../errors.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import { mapEvent, type MappedEvent } from './set-events.js';
import type { VerifiedSet } from './set-verify.js';
import { MAX_DESCRIPTION, severityRank, type Signal } from './signal.js';

/** Event claims copied into a signal's evidence (CAEP 1.0 §3, RISC 1.0 §2), when short strings. */
const EVIDENCE_CLAIMS = [
  'change_type',
  'credential_type',
  'change_direction',
  'current_level',
  'previous_level',
  'current_status',
  'previous_status',
  'namespace',
  'initiating_entity',
  'reason',
  'risk_reason',
  'principal',
];
const MAX_CLAIM = 128;
const MAX_LISTED_EVENTS = 8;

/** CAEP `reason_admin` is an object of language tag → text (older drafts: a string); English first. */
function descriptionOf(payload: Readonly<Record<string, unknown>>): string | undefined {
  const reason = payload['reason_admin'];
  let text: unknown = reason;
  if (typeof reason === 'object' && reason !== null && !Array.isArray(reason)) {
    const byLang = reason as Record<string, unknown>;
    text = byLang['en'] ?? Object.values(byLang).find((v) => typeof v === 'string');
  }
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  return text.slice(0, MAX_DESCRIPTION);
}

function evidenceOf(set: VerifiedSet, chosen: MappedEvent): JsonObject {
  const payload = set.events[chosen.uri] ?? {};
  const claims: JsonObject = {};
  for (const name of EVIDENCE_CLAIMS) {
    const v = payload[name];
    if (typeof v === 'string' && v.length <= MAX_CLAIM) claims[name] = v;
  }
  return {
    event: chosen.uri,
    ...(Object.keys(claims).length > 0 && { claims }),
    events: Object.keys(set.events)
      .slice(0, MAX_LISTED_EVENTS)
      .map((uri) => uri.slice(0, 256)),
  };
}

/**
 * Turns a verified SET into ONE signal. RFC 8417 §2.2: the `events` of a SET describe a single logical
 * event, so when several supported event types are present the most severe one gives the kind (the
 * first in the token on a tie) and every type is listed in the evidence; unsupported types alongside
 * a supported one are listed and otherwise ignored. The time of occurrence is the event's CAEP
 * `event_timestamp`, else the SET's `toe`.
 *
 * @throws {BrokerError} `BROKER_SET_UNSUPPORTED_EVENT` when no event type is in the mapping table.
 */
export function signalFromSet(set: VerifiedSet): Signal {
  let chosen: MappedEvent | undefined;
  for (const [uri, payload] of Object.entries(set.events)) {
    const mapped = mapEvent(uri, payload);
    if (mapped && (chosen === undefined || severityRank(mapped.severity) > severityRank(chosen.severity))) {
      chosen = mapped;
    }
  }
  if (chosen === undefined) {
    throw new BrokerError('BROKER_SET_UNSUPPORTED_EVENT', 'no caep or risc event type of the mapping table');
  }
  const payload = set.events[chosen.uri] ?? {};
  const stamp = payload['event_timestamp'];
  const occurredAt = typeof stamp === 'number' && Number.isFinite(stamp) ? new Date(stamp * 1000) : set.toe;
  const description = descriptionOf(payload);
  return Object.freeze({
    kind: chosen.kind,
    severity: chosen.severity,
    subject: set.subject,
    evidence: evidenceOf(set, chosen),
    ...(description !== undefined && { description }),
    ...(occurredAt !== undefined && Number.isFinite(occurredAt.getTime()) && { occurredAt }),
  });
}
