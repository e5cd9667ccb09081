import { BrokerError } from '../../broker/errors.js';
import { TASK_TOKEN_ALGORITHMS, type TaskTokenAlgorithm } from './config.js';

/** RFC 8693 §2.1: the grant type of OAuth 2.0 Token Exchange. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The broker's paths under its base URL (DESIGN.md "Interfaces"). */
export const BROKER_OAUTH_PATHS = Object.freeze({
  jwks: '/.well-known/jwks.json',
  discovery: '/.well-known/openid-configuration',
  token: '/oauth2/token',
  introspection: '/oauth2/introspect',
});

/** Claims a task token carries (see `createJwtAdapter`). */
export const TASK_TOKEN_CLAIMS = Object.freeze([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'scope',
  'task_id',
  'client_id',
]);

/** The OpenID Provider Metadata the broker serves (OpenID Connect Discovery 1.0 §3, RFC 8414 §2). */
export interface OidcDiscoveryDocument {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly token_endpoint: string;
  readonly introspection_endpoint: string;
  readonly grant_types_supported: readonly string[];
  readonly response_types_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly TaskTokenAlgorithm[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly claims_supported: readonly string[];
}

/** Options of {@link buildOidcDiscovery}. */
export interface OidcDiscoveryOptions {
  /** Algorithms the keyring signs with (default all of ES256, RS256, PS256). */
  readonly signingAlgorithms?: readonly TaskTokenAlgorithm[];
}

/**
 * Builds the discovery document of the broker as an issuer whose JWKS resource servers (and AWS
 * `AssumeRoleWithWebIdentity`) can trust. Pure: same input, same document.
 *
 * `baseUrl` is the issuer: an http(s) URL without query or fragment; a trailing `/` is dropped, so the
 * `issuer` matches the `iss` of tokens configured with the same URL. The only grant is RFC 8693 token
 * exchange, whose client is authenticated by its subject token (a JWT-SVID), hence auth method `none`.
 *
 * @throws {BrokerError} `BROKER_INPUT_INVALID` for a base URL that cannot be an issuer.
 */
export function buildOidcDiscovery(baseUrl: string, opts: OidcDiscoveryOptions = {}): OidcDiscoveryDocument {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new BrokerError('BROKER_INPUT_INVALID', 'issuer base url is not an absolute url');
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    baseUrl.includes('?') ||
    baseUrl.includes('#')
  ) {
    throw new BrokerError(
      'BROKER_INPUT_INVALID',
      'issuer base url must be http(s) without query or fragment',
    );
  }
  const issuer = url.href.replace(/\/+$/, '');
  const algorithms = opts.signingAlgorithms ?? TASK_TOKEN_ALGORITHMS;
  return Object.freeze({
    issuer,
    jwks_uri: issuer + BROKER_OAUTH_PATHS.jwks,
    token_endpoint: issuer + BROKER_OAUTH_PATHS.token,
    introspection_endpoint: issuer + BROKER_OAUTH_PATHS.introspection,
    grant_types_supported: Object.freeze([TOKEN_EXCHANGE_GRANT_TYPE]),
    response_types_supported: Object.freeze(['id_token']),
    subject_types_supported: Object.freeze(['public']),
    id_token_signing_alg_values_supported: Object.freeze([...new Set(algorithms)]),
    token_endpoint_auth_methods_supported: Object.freeze(['none']),
    claims_supported: TASK_TOKEN_CLAIMS,
  });
}
