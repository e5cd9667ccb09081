import { createHash, randomBytes } from 'node:crypto';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';

/** Session tag keys the broker sets on every session (none transitive). */
export const TAG_TASK_ID = 'taskpass:task_id';
export const TAG_WORKLOAD = 'taskpass:workload';
export const TAG_SESSION = 'taskpass:session';

/** Prefix of the inline deny policies the broker puts on a role (one per task). */
export const DENY_POLICY_PREFIX = 'taskpass-revoke-';

/** STS `RoleSessionName` and `SourceIdentity`: `[\w+=,.@-]`, 2 to 64 characters. */
const STS_NAME = /^[\w+=,.@-]{2,64}$/;
/** STS session tag values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, at most 256 characters. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
/** IAM policy names: `[\w+=,.@-]+`, at most 128 characters (the prefix leaves 112). */
const POLICY_NAME_PART = /^[\w+=,.@-]{1,112}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when `name` is a valid STS `RoleSessionName`. */
export function isSessionName(name: string): boolean {
  return STS_NAME.test(name);
}

/**
 * A fresh role session name, `tp-<first 8 alphanumerics of the task id>-<16 random hex>`: valid STS
 * charset and length, unique per credential, and traceable to its task in CloudTrail (the name is part
 * of the assumed-role ARN).
 */
export function newSessionName(taskId: string, random: (n: number) => Buffer = randomBytes): string {
  const short = taskId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'task';
  return `tp-${short}-${random(8).toString('hex')}`;
}

/** A session tag value for `text`: itself when STS accepts it, else `sha256:<hex>` of it. */
export function tagValue(text: string): string {
  return TAG_VALUE.test(text) ? text : `sha256:${sha256(text).toString('hex')}`;
}

/** The `taskpass:task_id` tag value of a task (the deny policy's condition names the same value). */
export function taskTagValue(taskId: string): string {
  return tagValue(taskId);
}

/**
 * The `taskpass:workload` tag value: the exact SPIFFE ID (its characters are all allowed in tag
 * values), or its hash when it is longer than 256 characters.
 */
export function workloadTagValue(workload: SpiffeId): string {
  return tagValue(workload.toString());
}

/**
 * The STS `SourceIdentity` of a workload. The exact SPIFFE ID never fits (`:` and `/` are outside
 * `[\w+=,.@-]`), so it is written losslessly as the trust domain and the path segments joined by `,`
 * (`spiffe://example.org/agents/x` → `example.org,agents,x`): no SPIFFE ID character is a comma, so the
 * ID can be read back. When that is not 2–64 characters it is `sha256=<base64url of the SHA-256 of the
 * SPIFFE ID>` (50 characters). Neither form can begin with the reserved `aws:`.
 */
export function sourceIdentityOf(workload: SpiffeId): string {
  const readable = [workload.trustDomain.name, ...workload.segments].join(',');
  if (STS_NAME.test(readable)) return readable;
  return `sha256=${sha256(workload.toString()).toString('base64url')}`;
}

/** The name of the inline deny policy that revokes sessions of `taskId`: prefix plus the id or its hash. */
export function denyPolicyName(taskId: string): string {
  const part = POLICY_NAME_PART.test(taskId) ? taskId : sha256(taskId).toString('hex').slice(0, 40);
  return DENY_POLICY_PREFIX + part;
}
