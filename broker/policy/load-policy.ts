import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { BrokerError } from '../errors.js';
import { PolicyInvalidError, type PolicyIssue } from './policy-error.js';
import { checkPolicyDocument } from './policy-schema.js';
import type { Policy } from './policy-types.js';
import type { SchemaIssue, SchemaPath } from './schema-checks.js';

/** Largest policy file accepted: far beyond any real policy, small enough to parse without risk. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Renders a path as `rules[2].providers.crm-api.scopes[0]`; odd keys are quoted (`providers["a b"]`). */
export function formatSchemaPath(at: SchemaPath): string {
  if (at.length === 0) return '$';
  return at
    .map((seg, i) => {
      if (typeof seg === 'number') return `[${seg}]`;
      if (/^[A-Za-z0-9_-]+$/.test(seg)) return i === 0 ? seg : `.${seg}`;
      return `[${JSON.stringify(seg)}]`;
    })
    .join('');
}

/** The line and column of the deepest node of `at` that exists in the document. */
function locate(doc: Document, lines: LineCounter, at: SchemaPath): { line?: number; column?: number } {
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

function toIssue(doc: Document, lines: LineCounter, issue: SchemaIssue): PolicyIssue {
  return Object.freeze({
    path: formatSchemaPath(issue.at),
    kind: issue.kind,
    message: issue.message,
    ...locate(doc, lines, issue.at),
  });
}

/**
 * Parses and validates a policy from its source text, YAML or JSON (JSON is read as the YAML subset
 * it is). Returns a deeply frozen {@link Policy} whose `sha256` is the hash of `source` exactly.
 *
 * @throws {PolicyInvalidError} `BROKER_POLICY_INVALID` listing EVERY problem with its path and line:
 * syntax errors (duplicate keys included), unknown keys, missing keys, bad types, names, matchers,
 * durations, scopes and numbers (DESIGN.md, Concepts: Policy; invariant 5: nothing half-loaded).
 */
export function parsePolicy(source: string): Policy {
  const sha256 = createHash('sha256').update(source, 'utf8').digest('hex');
  if (Buffer.byteLength(source, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyInvalidError([
      { path: '$', kind: 'syntax', message: `policy is larger than ${MAX_POLICY_BYTES} bytes` },
    ]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyInvalidError(
      doc.errors.map((err) => {
        const { line, col } = lines.linePos(err.pos[0]);
        return { path: '$', kind: 'syntax', message: err.message, line, column: col };
      }),
    );
  }
  let value: unknown;
  try {
    // Aliases are expanded with a small budget: a policy has no use for "billion laughs".
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message : 'document cannot be read';
    throw new PolicyInvalidError([{ path: '$', kind: 'syntax', message }]);
  }
  const result = checkPolicyDocument(value, sha256);
  if (!result.ok) throw new PolicyInvalidError(result.issues.map((issue) => toIssue(doc, lines, issue)));
  return result.policy;
}

/**
 * Reads and parses the policy file at `path` (see {@link parsePolicy}).
 *
 * @throws {BrokerError} `BROKER_POLICY_UNREADABLE` when the file cannot be read;
 * {@link PolicyInvalidError} when it is invalid.
 */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw new BrokerError('BROKER_POLICY_UNREADABLE', path, { cause: err });
  }
  return parsePolicy(source);
}
