import { TAG_SESSION, TAG_TASK_ID } from './names.js';

/**
 * The content of one task's inline deny policy on a role: which of the task's sessions are revoked, and
 * from when the policy can be deleted because all of them have expired.
 */
export interface DenyPolicy {
  /** The `taskpass:task_id` tag value the deny is conditioned on. */
  readonly taskTag: string;
  /** Role session names (the `taskpass:session` tag values) that are denied everything. */
  readonly sessions: readonly string[];
  /** Epoch seconds after which every listed session has expired, so the policy is dead weight. */
  readonly cleanupAfter: number;
}

/** The `Sid` carries the cleanup time: IAM statement ids are `[A-Za-z0-9]+`, so no separator. */
const SID_PREFIX = 'TaskpassRevokeUntil';
const SID = /^TaskpassRevokeUntil(\d{1,12})$/;
const PRINCIPAL_TAG_TASK = `aws:PrincipalTag/${TAG_TASK_ID}`;
const PRINCIPAL_TAG_SESSION = `aws:PrincipalTag/${TAG_SESSION}`;

/**
 * Renders the policy document: one statement denying every action on every resource to requests whose
 * principal carries the task's `taskpass:task_id` tag AND one of the revoked `taskpass:session` tags
 * (keys of one condition operator are ANDed, values of one key ORed — IAM JSON policy reference,
 * Condition). Because the deny sits in the role's own identity policy, IAM evaluates it on every later
 * request of a session of that role, including sessions issued before it was written.
 */
export function renderDenyPolicy(policy: DenyPolicy): string {
  const sessions = [...new Set(policy.sessions)].sort();
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: SID_PREFIX + String(policy.cleanupAfter),
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: {
          StringEquals: {
            [PRINCIPAL_TAG_TASK]: policy.taskTag,
            [PRINCIPAL_TAG_SESSION]: sessions.length === 1 ? sessions[0] : sessions,
          },
        },
      },
    ],
  });
}

function decode(document: string): unknown {
  try {
    return JSON.parse(document);
  } catch {
    // IAM returns policy documents URL-encoded (RFC 3986), as GetRolePolicy documents.
    try {
      return JSON.parse(decodeURIComponent(document));
    } catch {
      return undefined;
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a document written by {@link renderDenyPolicy} (raw or URL-encoded JSON). Returns undefined for
 * anything else, so a foreign policy that merely shares the name prefix is never mistaken for one.
 */
export function parseDenyPolicy(document: string): DenyPolicy | undefined {
  const doc = decode(document);
  if (!isObject(doc) || !Array.isArray(doc['Statement']) || doc['Statement'].length !== 1) return undefined;
  const st: unknown = doc['Statement'][0];
  if (!isObject(st) || st['Effect'] !== 'Deny' || st['Action'] !== '*' || st['Resource'] !== '*')
    return undefined;
  const sid = typeof st['Sid'] === 'string' ? SID.exec(st['Sid']) : null;
  const cond = isObject(st['Condition']) ? st['Condition']['StringEquals'] : undefined;
  if (sid === null || !isObject(cond) || Object.keys(cond).length !== 2) return undefined;
  const taskTag = cond[PRINCIPAL_TAG_TASK];
  const raw = cond[PRINCIPAL_TAG_SESSION];
  const sessions = typeof raw === 'string' ? [raw] : raw;
  if (typeof taskTag !== 'string' || !Array.isArray(sessions) || sessions.length === 0) return undefined;
  if (!sessions.every((s): s is string => typeof s === 'string')) return undefined;
  return Object.freeze({ taskTag, sessions: Object.freeze(sessions), cleanupAfter: Number(sid[1]) });
}

/** `current` with `session` added and the cleanup time pushed to at least `cleanupAfter`. */
export function addDeniedSession(
  current: DenyPolicy | undefined,
  taskTag: string,
  session: string,
  cleanupAfter: number,
): DenyPolicy {
  const sessions = new Set(current?.sessions ?? []);
  sessions.add(session);
  return Object.freeze({
    taskTag,
    sessions: Object.freeze([...sessions].sort()),
    cleanupAfter: Math.max(current?.cleanupAfter ?? 0, cleanupAfter),
  });
}

/** Whether `policy` already denies `session` of the task tagged `taskTag`. */
export function deniesSession(policy: DenyPolicy | undefined, taskTag: string, session: string): boolean {
  return policy !== undefined && policy.taskTag === taskTag && policy.sessions.includes(session);
}
