import { BrokerError } from '../../broker/errors.js';
import type { AwsScopeGrant } from './scope-map.js';

/** STS's limit on the plaintext of a session policy (AssumeRole, `Policy`: 2,048 characters). */
export const SESSION_POLICY_MAX_CHARS = 2048;

interface Statement {
  readonly Effect: 'Allow';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

const one = (list: readonly string[]): string | readonly string[] => (list.length === 1 ? list[0]! : list);

/**
 * Builds the inline session policy of a credential from the scopes granted to it: exactly the mapped
 * statements of those scopes, nothing else (the session's permissions are the intersection of the
 * role's policies and this one, so it can only narrow the role). Scopes whose resource lists are equal
 * share one statement with the union of their actions, which grants exactly what the separate
 * statements would; statements keep the order of first appearance, actions are sorted, so the same
 * grant always yields the same document.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` when no scope is granted (a session without a
 * session policy would hold every permission of the role), a scope is not in the provider's map, or
 * the compact JSON exceeds {@link SESSION_POLICY_MAX_CHARS}.
 */
export function buildSessionPolicy(
  map: ReadonlyMap<string, AwsScopeGrant>,
  granted: readonly string[],
): string {
  if (granted.length === 0) {
    throw new BrokerError(
      'BROKER_ADAPTER_BAD_REQUEST',
      'aws-sts needs at least one scope for a session policy',
    );
  }
  const groups = new Map<string, { resources: readonly string[]; actions: Set<string> }>();
  for (const scope of granted) {
    const grant = map.get(scope);
    if (grant === undefined) {
      throw new BrokerError(
        'BROKER_ADAPTER_BAD_REQUEST',
        `scope ${JSON.stringify(scope)} is not mapped to iam`,
      );
    }
    const resources = [...grant.resources].sort();
    const key = JSON.stringify(resources);
    const group = groups.get(key) ?? { resources, actions: new Set<string>() };
    grant.actions.forEach((a) => group.actions.add(a));
    groups.set(key, group);
  }
  const statements: Statement[] = [...groups.values()].map((g) => ({
    Effect: 'Allow',
    Action: one([...g.actions].sort()),
    Resource: one(g.resources),
  }));
  const document = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  if (document.length > SESSION_POLICY_MAX_CHARS) {
    throw new BrokerError(
      'BROKER_ADAPTER_BAD_REQUEST',
      `session policy for these scopes is ${document.length} characters; sts allows ${SESSION_POLICY_MAX_CHARS}`,
    );
  }
  return document;
}
