import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePolicy } from '../../../broker/policy/load-policy.js';
import type { Policy } from '../../../broker/policy/policy-types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

/** Parses a SPIFFE ID literal for a test. */
export const id = (s: string): SpiffeId => SpiffeId.parse(s);

/** The repository root: the nearest folder above the compiled test holding examples/policy.yaml. */
export function repositoryRoot(from: string = import.meta.dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples', 'policy.yaml'))) return dir;
  }
  throw new Error('examples/policy.yaml not found above ' + from);
}

/** A valid rule as a plain document object, to copy and break. */
export function baseRule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'agents',
    match: [{ glob: 'spiffe://taskpass.local/agents/*' }],
    intents: ['summarize-ticket'],
    providers: { 'crm-api': { scopes: ['crm:read', 'crm:write'] } },
    max_credential_ttl: '5m',
    max_task_lifetime: '30m',
    ...overrides,
  };
}

/** A valid policy document with `rules`, as a plain object. */
export function baseDocument(
  rules: unknown[] = [baseRule()],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { version: 1, rules, ...extra };
}

/** Parses a document object (as JSON text, which the loader reads as YAML's subset). */
export function policyOf(doc: Record<string, unknown>): Policy {
  return parsePolicy(JSON.stringify(doc, null, 2));
}
