/** Field readers of the `postgres-role` configuration beyond what {@link ConfigReader} offers. */

/** `role_prefix`: lowercase, at most 30 bytes (room for the task id and random part in 63), not `pg_`. */
export const ROLE_PREFIX_RULE = /^(?!pg_)[a-z_][a-z0-9_]{0,29}$/;

/** RFC 6749 §3.3 `scope-token`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Predefined roles that amount to running code or reading and writing files as the server's OS user
 * (PostgreSQL §22.5): never handed to an agent.
 */
const FORBIDDEN_TEMPLATES = new Set([
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
]);

type Report = (problem: string) => void;

/** A PostgreSQL name (role or database): 1 to 63 bytes (NAMEDATALEN - 1), no NUL. */
export function isSqlName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.byteLength(value, 'utf8') <= 63 &&
    !value.includes('\0') &&
    value.trim() === value
  );
}

/** An optional whole number in `[min, max]`; `fallback` when absent. */
export function readInteger(
  raw: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max: number,
  report: Report,
): number {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  report(`${key}: must be a whole number from ${min} to ${max}`);
  return fallback;
}

/** An optional role or database name; undefined when absent or invalid (reported). */
export function readName(raw: Record<string, unknown>, key: string, report: Report): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (isSqlName(value)) return value;
  report(`${key}: must be a name of 1 to 63 bytes`);
  return undefined;
}

/** An optional list of distinct names; undefined when absent or invalid (each problem reported). */
export function readNames(
  raw: Record<string, unknown>,
  key: string,
  report: Report,
): readonly string[] | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return void report(`${key}: must be a list of names`);
  const bad = value.findIndex((v) => !isSqlName(v));
  if (bad >= 0) return void report(`${key}[${bad}]: must be a name of 1 to 63 bytes`);
  if (new Set(value).size !== value.length) return void report(`${key}: names must be distinct`);
  return Object.freeze([...(value as string[])]);
}

/** One `grants` entry: a non-empty list of distinct, grantable template role names. */
function readTemplates(scope: string, value: unknown, report: Report): readonly string[] | undefined {
  const where = `grants.${scope}`;
  if (!Array.isArray(value) || value.length === 0) {
    return void report(`${where}: must be a non-empty list of template role names`);
  }
  let ok = true;
  value.forEach((v, i) => {
    if (!isSqlName(v)) {
      ok = false;
      report(`${where}[${i}]: must be a role name of 1 to 63 bytes`);
    } else if (FORBIDDEN_TEMPLATES.has(v)) {
      ok = false;
      report(`${where}[${i}]: ${v} gives server file or program access and cannot be granted`);
    }
  });
  if (ok && new Set(value).size !== value.length) {
    return void report(`${where}: template roles must be distinct`);
  }
  return ok ? Object.freeze([...(value as string[])]) : undefined;
}

/** `grants`: a non-empty map from RFC 6749 scope-tokens to template role lists. */
export function readGrants(value: unknown, report: Report): ReadonlyMap<string, readonly string[]> {
  const grants = new Map<string, readonly string[]>();
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length === 0
  ) {
    report('grants: must map at least one scope to a list of template roles');
    return grants;
  }
  for (const [scope, templates] of Object.entries(value)) {
    if (!SCOPE_TOKEN.test(scope)) {
      report(`grants: ${JSON.stringify(scope)} is not an rfc 6749 scope-token`);
      continue;
    }
    const parsed = readTemplates(scope, templates, report);
    if (parsed !== undefined) grants.set(scope, parsed);
  }
  return grants;
}
