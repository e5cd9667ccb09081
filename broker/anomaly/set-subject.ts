import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError } from '../errors.js';
import { isUuid } from '../issuance/id-source.js';
import type { SignalSubject } from './signal.js';

/** The URN prefix that names a task in a subject identifier: `urn:taskpass:task:<uuid>`. */
export const TASK_URN_PREFIX = 'urn:taskpass:task:';

/** The URN of a task, as detectors put it in `sub_id`. */
export function taskUrn(taskId: string): string {
  return `${TASK_URN_PREFIX}${taskId}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a SET's `sub_id` claim (the Shared Signals Framework's subject of the events): a Subject
 * Identifier of RFC 9493 in the `uri` format (§3.2.7: `{"format": "uri", "uri": "<URI>"}`, no other
 * members), whose URI is either a SPIFFE ID (a workload) or `urn:taskpass:task:<uuid>` (a task).
 * Other formats (`email`, `iss_sub`, `opaque`, …) name subjects the broker does not have.
 *
 * @throws {BrokerError} `BROKER_SET_BAD_SUBJECT`.
 */
export function parseSubjectIdentifier(subId: unknown): SignalSubject {
  const bad = (detail: string): BrokerError => new BrokerError('BROKER_SET_BAD_SUBJECT', detail);
  if (subId === undefined) throw bad('sub_id is required');
  if (!isPlainObject(subId)) throw bad('sub_id must be a json object');
  if (subId['format'] !== 'uri') throw bad('sub_id format must be uri');
  const extra = Object.keys(subId).filter((k) => k !== 'format' && k !== 'uri');
  if (extra.length > 0) throw bad('a uri subject identifier has only format and uri');
  const uri = subId['uri'];
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2048) throw bad('sub_id uri must be a uri');
  if (uri.startsWith(TASK_URN_PREFIX)) {
    const id = uri.slice(TASK_URN_PREFIX.length);
    if (!isUuid(id)) throw bad('task urn must end in a task id');
    return Object.freeze({ taskId: id.toLowerCase() });
  }
  if (uri.startsWith('spiffe://')) {
    try {
      return Object.freeze({ workload: SpiffeId.parse(uri) });
    } catch (err) {
      throw new BrokerError('BROKER_SET_BAD_SUBJECT', 'sub_id uri is not a valid spiffe id', { cause: err });
    }
  }
  throw bad('sub_id uri must be a spiffe id or a task urn');
}
