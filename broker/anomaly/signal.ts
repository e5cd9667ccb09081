import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError } from '../errors.js';
import { isUuid } from '../issuance/id-source.js';
import { canonicalJson, type JsonObject, type JsonValue } from '../ledger/canonical-json.js';

/** How bad a signal says things are, in increasing order. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** Every severity, from the least to the most severe. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['low', 'medium', 'high', 'critical']);

/** The position of `s` in {@link SEVERITIES}: comparisons of severities compare these. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** What a signal is about: one task, or one workload (every task it has). */
export type SignalSubject = { readonly taskId: string } | { readonly workload: SpiffeId };

/** An anomaly signal (ISSUE 4, "Anomaly signals"), validated. */
export interface Signal {
  /** An open set of names `[a-z0-9_.-]+`; `broker.*` is reserved for the built-in detectors. */
  readonly kind: string;
  readonly severity: Severity;
  readonly subject: SignalSubject;
  readonly description?: string;
  /** Small JSON the detector attaches (at most {@link MAX_EVIDENCE_BYTES}). Never a secret. */
  readonly evidence?: JsonObject;
  /** When the detector saw it happen (recorded as given; the ledger's own time is the receipt). */
  readonly occurredAt?: Date;
}

/** A signal as a caller sends it, before {@link checkSignal}. */
export interface SignalInput {
  readonly kind: string;
  readonly severity: string;
  readonly subject: { readonly taskId?: string; readonly workload?: string | SpiffeId };
  readonly description?: string;
  readonly evidence?: unknown;
  readonly occurredAt?: Date;
}

/** Kinds only the broker's own detectors may raise. */
export const RESERVED_KIND_PREFIX = 'broker.';
/** Largest evidence, as canonical JSON. */
export const MAX_EVIDENCE_BYTES = 4096;
/** Deepest nesting of evidence objects and arrays. */
export const MAX_EVIDENCE_DEPTH = 5;
export const MAX_DESCRIPTION = 1024;
const KIND = /^[a-z0-9_.-]{1,64}$/;

/** True when `kind` is a well-formed signal kind. */
export function isValidKind(kind: string): boolean {
  return KIND.test(kind);
}

function invalid(detail: string): BrokerError {
  return new BrokerError('BROKER_INPUT_INVALID', detail);
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

/**
 * Checks evidence: a plain JSON object, at most {@link MAX_EVIDENCE_DEPTH} deep and
 * {@link MAX_EVIDENCE_BYTES} as canonical JSON, so a detector cannot grow the ledger without bound.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID`.
 */
export function checkEvidence(value: unknown): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('evidence must be a json object');
  }
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    throw invalid('evidence must be json');
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_EVIDENCE_BYTES) {
    throw invalid(`evidence must be at most ${MAX_EVIDENCE_BYTES} bytes of json`);
  }
  if (depthOf(value) > MAX_EVIDENCE_DEPTH)
    throw invalid(`evidence must be at most ${MAX_EVIDENCE_DEPTH} deep`);
  return JSON.parse(text) as JsonObject;
}

function checkSubject(subject: SignalInput['subject']): SignalSubject {
  const { taskId, workload } = subject ?? {};
  if ((taskId === undefined) === (workload === undefined)) {
    throw invalid('subject must name exactly one of task_id and workload');
  }
  if (taskId !== undefined) {
    if (typeof taskId !== 'string' || !isUuid(taskId)) throw invalid('subject task_id must be a task id');
    return Object.freeze({ taskId: taskId.toLowerCase() });
  }
  if (workload instanceof SpiffeId) return Object.freeze({ workload });
  try {
    return Object.freeze({ workload: SpiffeId.parse(String(workload)) });
  } catch {
    throw invalid('subject workload must be a spiffe id');
  }
}

/**
 * Validates a signal (the model of ISSUE 4, "Anomaly signals"): a kind `[a-z0-9_.-]{1,64}`, one of
 * the four severities, exactly one subject (a task id or a workload SPIFFE ID), an optional
 * description (1..1024 characters), evidence (see {@link checkEvidence}) and time of occurrence.
 * `broker.*` kinds are refused unless `builtIn` (a caller must not pass itself off as the broker).
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` naming the broken rule.
 */
export function checkSignal(input: SignalInput, opts: { builtIn?: boolean } = {}): Signal {
  if (typeof input.kind !== 'string' || !isValidKind(input.kind)) {
    throw invalid('kind must be 1..64 of a-z 0-9 _ . -');
  }
  if (input.kind.startsWith(RESERVED_KIND_PREFIX) && opts.builtIn !== true) {
    throw invalid(`kinds ${RESERVED_KIND_PREFIX}* are reserved for the built-in detectors`);
  }
  if (!(SEVERITIES as readonly string[]).includes(input.severity)) {
    throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`);
  }
  const description = input.description;
  if (
    description !== undefined &&
    (typeof description !== 'string' || description.length === 0 || description.length > MAX_DESCRIPTION)
  ) {
    throw invalid(`description must have 1..${MAX_DESCRIPTION} characters`);
  }
  const occurredAt = input.occurredAt;
  if (occurredAt !== undefined && !(occurredAt instanceof Date && Number.isFinite(occurredAt.getTime()))) {
    throw invalid('occurred_at must be a date-time');
  }
  return Object.freeze({
    kind: input.kind,
    severity: input.severity as Severity,
    subject: checkSubject(input.subject),
    ...(description !== undefined && { description }),
    ...(input.evidence !== undefined && { evidence: checkEvidence(input.evidence) }),
    ...(occurredAt !== undefined && { occurredAt }),
  });
}

/** The subject as the ledger and the API write it (`{task_id}` or `{workload}`). */
export function subjectJson(subject: SignalSubject): { [key: string]: JsonValue } {
  return 'taskId' in subject ? { task_id: subject.taskId } : { workload: subject.workload.toString() };
}
