import { ConfigReader } from '../config-reader.js';

/** Signing algorithms of task tokens (RFC 7518 §3.3–§3.5). ES256 is the default. */
export const TASK_TOKEN_ALGORITHMS = Object.freeze(['ES256', 'RS256', 'PS256'] as const);

/** One of {@link TASK_TOKEN_ALGORITHMS}. */
export type TaskTokenAlgorithm = (typeof TASK_TOKEN_ALGORITHMS)[number];

/** Default and ceiling of `max_ttl`: task tokens are short-lived by design. */
export const JWT_DEFAULT_MAX_TTL_SECONDS = 3600;
export const JWT_MAX_TTL_LIMIT_SECONDS = 86400;

/** Parsed configuration of one `jwt` provider (e.g. `crm-api`). */
export interface JwtProviderConfig {
  /** The `aud` of its tokens: the resource server that accepts them. */
  readonly audience: string;
  /** The `iss` of its tokens: the broker's issuer URL, as in its OIDC discovery document. */
  readonly issuer: string;
  readonly algorithm: TaskTokenAlgorithm;
  /** Longest token lifetime; longer requests are shortened to it. */
  readonly maxTtlSeconds: number;
}

/** True when `value` names a {@link TaskTokenAlgorithm}. */
export function isTaskTokenAlgorithm(value: unknown): value is TaskTokenAlgorithm {
  return typeof value === 'string' && (TASK_TOKEN_ALGORITHMS as readonly string[]).includes(value);
}

/** OpenID Connect Discovery §3 / RFC 8414 §2: an http(s) URL with no query or fragment. */
function issuerProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'issuer: must be an absolute url';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'issuer: must be an http(s) url';
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    return 'issuer: must have no query or fragment';
  }
  return undefined;
}

/**
 * Validates a `jwt` provider's configuration: `audience` and `issuer` (required), `algorithm`
 * (`ES256` default, `RS256`, `PS256`), `max_ttl` (a duration, default 1h, at most 24h).
 *
 * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem.
 */
export function parseJwtProviderConfig(raw: unknown): JwtProviderConfig {
  const reader = new ConfigReader(raw, ['audience', 'issuer', 'algorithm', 'max_ttl']);
  const audience = reader.string('audience');
  const issuer = reader.string('issuer');
  const issuerIssue = issuer === '' ? undefined : issuerProblem(issuer);
  if (issuerIssue !== undefined) reader.problem(issuerIssue);
  return reader.finish({
    audience,
    issuer,
    algorithm: reader.oneOf('algorithm', TASK_TOKEN_ALGORITHMS, 'ES256'),
    maxTtlSeconds: reader.duration('max_ttl', JWT_DEFAULT_MAX_TTL_SECONDS, JWT_MAX_TTL_LIMIT_SECONDS),
  });
}
