import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { epochSeconds } from '../credential-adapter.js';
import type { TaskTokenAlgorithm } from '../jwt/config.js';
import type { TaskTokenKeyring } from '../jwt/signing-keys.js';
import type { SessionTag } from './client.js';

/** The private claim AWS reads session tags from (IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity"). */
export const AWS_TAGS_CLAIM = 'https://aws.amazon.com/tags';
/** The private claim AWS reads the source identity from (IAM User Guide, "Monitor and control actions taken with assumed roles"). */
export const AWS_SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';
/** Lifetime of a web identity token: it is presented once, at once, to AssumeRoleWithWebIdentity. */
export const WEB_IDENTITY_TOKEN_TTL_SECONDS = 300;

/** What the adapter asks to be signed: one token for one AssumeRoleWithWebIdentity call. */
export interface WebIdentityTokenRequest {
  /** The `aud`: the client id registered with the role account's IAM OIDC provider. */
  readonly audience: string;
  /** The `sub`: the workload's SPIFFE ID, or the broker's own subject for its management session. */
  readonly subject: string;
  readonly now: Date;
  /** Session tags (AssumeRoleWithWebIdentity takes them only from the token). */
  readonly sessionTags?: readonly SessionTag[];
  readonly sourceIdentity?: string;
}

/** Signs a web identity token as the broker's OIDC issuer. */
export type WebIdentityTokenSigner = (req: WebIdentityTokenRequest) => Promise<string>;

/**
 * The claims of a web identity token: `iss` (the broker's issuer, whose discovery document and JWKS AWS
 * fetches), `sub`, `aud`, `iat`, `nbf`, `exp` (`iat` + {@link WEB_IDENTITY_TOKEN_TTL_SECONDS}), `jti`;
 * the session tags under {@link AWS_TAGS_CLAIM} as `{principal_tags: {key: [value]}}` with no
 * `transitive_tag_keys` (none is transitive); the source identity under
 * {@link AWS_SOURCE_IDENTITY_CLAIM}. Pure given `jti`.
 */
export function webIdentityClaims(issuer: string, req: WebIdentityTokenRequest, jti: string): JWTPayload {
  const iat = epochSeconds(req.now);
  const claims: JWTPayload = {
    iss: issuer,
    sub: req.subject,
    aud: req.audience,
    iat,
    nbf: iat,
    exp: iat + WEB_IDENTITY_TOKEN_TTL_SECONDS,
    jti,
  };
  if (req.sessionTags !== undefined && req.sessionTags.length > 0) {
    const principalTags = Object.fromEntries(req.sessionTags.map((t) => [t.key, [t.value]]));
    claims[AWS_TAGS_CLAIM] = { principal_tags: principalTags };
  }
  if (req.sourceIdentity !== undefined) claims[AWS_SOURCE_IDENTITY_CLAIM] = req.sourceIdentity;
  return claims;
}

/** Options of {@link createKeyringWebIdentitySigner}. */
export interface KeyringWebIdentitySignerOptions {
  /** The broker's task-token keyring: its JWKS is what AWS fetches through the discovery document. */
  readonly keyring: TaskTokenKeyring;
  /** The broker's issuer URL (`https://…`, no trailing slash), equal to the discovery `issuer`. */
  readonly issuer: string;
  /** Default: the keyring's first algorithm (ES256 unless configured otherwise). */
  readonly algorithm?: TaskTokenAlgorithm;
}

/**
 * A {@link WebIdentityTokenSigner} over the broker's keyring: header `{alg, kid, typ: "JWT"}`, claims
 * of {@link webIdentityClaims}. Because these tokens are signed by the same keys as task tokens, the
 * `aud` must differ from every `jwt` provider's audience, or a resource server holding a task token
 * could present it to AWS (docs/providers/aws-sts.md).
 */
export function createKeyringWebIdentitySigner(
  opts: KeyringWebIdentitySignerOptions,
): WebIdentityTokenSigner {
  const issuer = opts.issuer.replace(/\/+$/, '');
  return async (req) => {
    const alg = opts.algorithm ?? opts.keyring.algorithms[0] ?? 'ES256';
    const key = await opts.keyring.signingKey(alg, req.now);
    return new SignJWT(webIdentityClaims(issuer, req, randomUUID()))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  };
}
