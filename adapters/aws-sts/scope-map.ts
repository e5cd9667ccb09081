/** One broker scope turned into IAM: the actions it allows on the resources it names. */
export interface AwsScopeGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** RFC 6749 §3.3 `scope-token`, as the broker's scopes are spelled. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** An IAM action (`service:Action`, `*`/`?` wildcards allowed) or `*` (IAM JSON policy reference, Action). */
const ACTION = /^(?:\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/;
/**
 * `*` or an ARN. A session policy may only hold tab, LF, CR and U+0020–U+00FF (STS AssumeRole,
 * `Policy`); inside one JSON string the control characters are out too.
 */
const RESOURCE = /^(?:\*|arn:[\x20-\xff]+)$/;

/**
 * Actions a task's session must never hold while revocation is by deny policy, because each lets a
 * session escape or undo it: chaining into another role gives a new session without the task's tags
 * (so the deny does not match it), and editing the role's inline policies can delete a deny.
 */
export const REVOCATION_ESCAPE_ACTIONS = Object.freeze([
  'sts:AssumeRole',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoleWithSAML',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
]);

/** Whether the IAM action pattern `pattern` (case-insensitive, `*` and `?` wildcards) matches `action`. */
export function iamActionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(action);
}

function stringList(value: unknown, where: string, pattern: RegExp, problems: string[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${where}: must be a non-empty list of strings`);
    return [];
  }
  const bad = value.filter((v) => typeof v !== 'string' || !pattern.test(v));
  if (bad.length > 0)
    problems.push(`${where}: ${bad.length} malformed entr${bad.length === 1 ? 'y' : 'ies'}`);
  return [...new Set(value.filter((v): v is string => typeof v === 'string' && pattern.test(v)))];
}

/**
 * Reads the `scopes` field: an object from each broker scope to `{actions, resources}`. Appends every
 * problem to `problems` (prefixed `scopes.<scope>`). With `denyPolicy`, refuses actions that match one
 * of {@link REVOCATION_ESCAPE_ACTIONS}.
 */
export function parseScopeMap(
  raw: unknown,
  denyPolicy: boolean,
  problems: string[],
): ReadonlyMap<string, AwsScopeGrant> {
  const map = new Map<string, AwsScopeGrant>();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    problems.push('scopes: must map at least one scope to {actions, resources}');
    return map;
  }
  for (const [scope, grant] of Object.entries(raw)) {
    const where = `scopes.${scope}`;
    if (!SCOPE_TOKEN.test(scope)) problems.push(`${where}: scope must be an rfc 6749 scope-token`);
    if (typeof grant !== 'object' || grant === null || Array.isArray(grant)) {
      problems.push(`${where}: must be {actions, resources}`);
      continue;
    }
    const { actions, resources, ...rest } = grant as Record<string, unknown>;
    for (const key of Object.keys(rest)) problems.push(`${where}.${key}: unknown field`);
    const a = stringList(actions, `${where}.actions`, ACTION, problems);
    const r = stringList(resources, `${where}.resources`, RESOURCE, problems);
    const escapes = a.filter((p) => REVOCATION_ESCAPE_ACTIONS.some((x) => iamActionMatches(p, x)));
    if (denyPolicy && escapes.length > 0) {
      problems.push(
        `${where}.actions: ${escapes.join(', ')} would let a session escape revocation by deny policy`,
      );
    }
    map.set(scope, Object.freeze({ actions: Object.freeze(a), resources: Object.freeze(r) }));
  }
  return map;
}
