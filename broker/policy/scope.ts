import type { ScopePattern } from './policy-types.js';

// RFC 6749 §3.3 scope-token characters (NQCHAR: printable ASCII but space, `"` and `\`), minus `*`,
// which is reserved for the policy's suffix wildcard.
const SCOPE = /^[\x21\x23-\x29\x2b-\x5b\x5d-\x7e]{1,128}$/;

/** True when `scope` is a valid concrete scope: 1–128 RFC 6749 scope characters, no `*`. */
export function isValidScope(scope: string): boolean {
  return SCOPE.test(scope);
}

/**
 * Parses a policy scope pattern: an exact scope, or a non-empty scope prefix followed by one final
 * `*`. Returns `undefined` for anything else (a bare `*`, a `*` elsewhere, bad characters): granting
 * every scope must be spelled out, never implied (least privilege).
 */
export function parseScopePattern(text: string): ScopePattern | undefined {
  if (text.endsWith('*')) {
    const prefix = text.slice(0, -1);
    return isValidScope(prefix) ? Object.freeze({ text: prefix, prefix: true }) : undefined;
  }
  return isValidScope(text) ? Object.freeze({ text, prefix: false }) : undefined;
}

/** True when `scope` is allowed by `pattern`. */
export function scopeMatches(pattern: ScopePattern, scope: string): boolean {
  return pattern.prefix ? scope.startsWith(pattern.text) : scope === pattern.text;
}

/** The scopes of `scopes` that no pattern of `patterns` allows, in input order. */
export function scopesOutside(patterns: readonly ScopePattern[], scopes: readonly string[]): string[] {
  return scopes.filter((scope) => !patterns.some((p) => scopeMatches(p, scope)));
}

/** Renders a pattern as written in the policy file. */
export function formatScopePattern(pattern: ScopePattern): string {
  return pattern.prefix ? `${pattern.text}*` : pattern.text;
}
