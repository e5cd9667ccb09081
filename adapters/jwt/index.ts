import { randomUUID } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';
import {
  checkIssueRequest,
  epochSeconds,
  hashSecret,
  type CredentialAdapter,
  type HandleContext,
  type IssueContext,
  type IssuedCredential,
  type RevocationCheck,
} from '../credential-adapter.js';
import { signCompactJws } from './compact-jws.js';
import { parseJwtProviderConfig, type JwtProviderConfig } from './config.js';
import type { TaskTokenKeyring } from './signing-keys.js';
import { TASK_TOKEN_TYPE } from './verify-task-token.js';

/** The revocation handle of a task token: its `jti`, the `kid` that signed it, and its expiry. */
export type JwtHandle = { readonly jti: string; readonly kid: string; readonly expiresAt: string };

/** What the `jwt` adapter needs from the broker. */
export interface JwtAdapterDeps {
  /** The broker's signing keys, shared by every `jwt` provider (one JWKS for the broker). */
  readonly keyring: TaskTokenKeyring;
  /** Whether the broker's state records the token `jti` as revoked (its revocation list). */
  isRevoked(jti: string): Promise<boolean>;
}

/** The `kind` of the built-in provider in configuration. */
export const JWT_ADAPTER_KIND = 'jwt';

/**
 * Creates the built-in `jwt` provider: broker-signed task tokens, RFC 9068 JWT access tokens with
 * header `{alg, kid, typ: "at+jwt"}` and claims `iss`, `sub` (the workload's SPIFFE ID), `aud` (the
 * provider's audience), `exp`, `iat`, `nbf`, `jti` (random, unique), `scope` (space-separated),
 * `task_id`, and `client_id` (the workload again, as RFC 9068 §2.2 requires).
 *
 * Revocability is `revocable`, but not at a backend: a signed token cannot be unsigned. The broker's
 * own state is the revocation list; resource servers check it through introspection (RFC 7662, by
 * `secretHash`) and the revocation feed. So {@link CredentialAdapter.revoke} is a no-op that succeeds
 * (the broker records the revocation in the same transaction as its ledger event), and
 * `verifyRevoked` asks that same record through `deps.isRevoked`. There is no `renew`: a token's
 * claims are signed, so a longer life means a new token.
 *
 * The lifetime is the smallest of the request, the provider's `max_ttl` and the keyring's overlap,
 * so a token never outlives the publication of the key that signed it.
 */
export function createJwtAdapter(deps: JwtAdapterDeps): CredentialAdapter<JwtProviderConfig, JwtHandle> {
  return Object.freeze({
    kind: JWT_ADAPTER_KIND,
    revocability: 'revocable' as const,
    parseConfig: parseJwtProviderConfig,
    parseHandle: parseJwtHandle,
    issue: (ctx: IssueContext<JwtProviderConfig>) => issueTaskToken(deps, ctx),
    async revoke(): Promise<void> {
      // Deliberately nothing: the broker's revocation record is what makes the token inactive.
    },
    async verifyRevoked(ctx: HandleContext<JwtProviderConfig, JwtHandle>): Promise<RevocationCheck> {
      if (await deps.isRevoked(ctx.handle.jti)) {
        return { confirmed: true, detail: 'broker revocation list holds the jti' };
      }
      if (Date.parse(ctx.handle.expiresAt) <= ctx.now.getTime()) {
        return { confirmed: true, detail: 'token has expired' };
      }
      return { confirmed: false, detail: 'jti is not in the broker revocation list' };
    },
  });
}

async function issueTaskToken(
  deps: JwtAdapterDeps,
  ctx: IssueContext<JwtProviderConfig>,
): Promise<IssuedCredential<JwtHandle>> {
  checkIssueRequest(ctx);
  const { config, now } = ctx;
  const key = await deps.keyring.signingKey(config.algorithm, now);
  const ttl = Math.min(ctx.ttlSeconds, config.maxTtlSeconds, deps.keyring.overlapSeconds);
  const iat = epochSeconds(now);
  const exp = iat + ttl;
  const jti = randomUUID();
  const workload = ctx.workload.toString();
  const secret = signCompactJws(
    { alg: key.alg, kid: key.kid, typ: TASK_TOKEN_TYPE },
    {
      iss: config.issuer,
      sub: workload,
      aud: config.audience,
      iat,
      nbf: iat,
      exp,
      jti,
      scope: ctx.scopes.join(' '),
      task_id: ctx.taskId,
      client_id: workload,
    },
    key.privateKey,
  );
  const expiresAt = new Date(exp * 1000);
  return {
    secret,
    handle: Object.freeze({ jti, kid: key.kid, expiresAt: expiresAt.toISOString() }),
    expiresAt,
    renewable: false,
    secretHash: hashSecret(secret),
  };
}

/**
 * Validates a stored `jwt` handle.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
 */
export function parseJwtHandle(raw: unknown): JwtHandle {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const { jti, kid, expiresAt } = raw as Record<string, unknown>;
    const strings = typeof jti === 'string' && typeof kid === 'string' && typeof expiresAt === 'string';
    if (strings && jti !== '' && kid !== '' && !Number.isNaN(Date.parse(expiresAt))) {
      return Object.freeze({ jti, kid, expiresAt });
    }
  }
  throw new BrokerError('BROKER_ADAPTER_BAD_HANDLE', 'expected {jti, kid, expiresAt}');
}

export { hashSecret as taskTokenHash };
export {
  parseJwtProviderConfig,
  TASK_TOKEN_ALGORITHMS,
  type JwtProviderConfig,
  type TaskTokenAlgorithm,
} from './config.js';
export { TaskTokenKeyring, type TaskTokenJwks, type TaskTokenPublicJwk } from './signing-keys.js';
export {
  createFileTaskTokenKeyStore,
  createMemoryTaskTokenKeyStore,
  type TaskTokenKeyStore,
} from './key-store.js';
export { verifyTaskToken, type TaskTokenVerification, type VerifiedTaskToken } from './verify-task-token.js';
