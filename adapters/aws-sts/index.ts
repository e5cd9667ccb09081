import {
  AdapterConfigError,
  type CredentialAdapter,
  type HandleContext,
  type IssueContext,
  type RevocationCheck,
} from '../credential-adapter.js';
import { bindProvider, type AdapterKind } from '../registry.js';
import { createBackendCache, requireSigner, type AwsBackendDeps } from './backends.js';
import { parseAwsStsConfig, roleNameOf, type AwsStsConfig } from './config.js';
import { CLOCK_SKEW_SECONDS, DenyRevocation, type DenyCleanupReport } from './deny-revocation.js';
import { parseAwsStsHandle, type AwsStsHandle } from './handle.js';
import { issueSession } from './issue-session.js';

/** The `kind` of AWS STS providers in configuration. */
export const AWS_STS_ADAPTER_KIND = 'aws-sts';

/** What `aws-sts` adapters need from the broker (see {@link AwsBackendDeps}). */
export type AwsStsAdapterDeps = AwsBackendDeps;

/** An `aws-sts` adapter, plus the maintenance its deny policies need. */
export interface AwsStsAdapter extends CredentialAdapter<AwsStsConfig, AwsStsHandle> {
  /**
   * Deletes the provider role's deny policies whose sessions have all expired by `now`. Revocation also
   * runs it when IAM refuses a deny for lack of room; run it periodically to keep the role tidy.
   */
  cleanupExpiredDenies(config: AwsStsConfig, now: Date): Promise<DenyCleanupReport>;
}

/** The two variants of the kind: one per `revocation` setting, each declaring its revocability. */
export interface AwsStsAdapters {
  /** `revocation: deny-policy`: revoked by a per-task deny on the role; `revocable`. */
  readonly revocable: AwsStsAdapter;
  /** `revocation: none`: the session lives until it expires; `expires-only`, revoke is a no-op. */
  readonly expiresOnly: AwsStsAdapter;
}

/** True when AWS has let the session expire, with the skew margin (never claims "expired" early). */
function expired(handle: AwsStsHandle, now: Date): boolean {
  return now.getTime() >= (handle.expires_at + CLOCK_SKEW_SECONDS) * 1000;
}

/**
 * Creates the `aws-sts` adapters: role sessions from AWS STS (AssumeRole with the broker's keys, or
 * AssumeRoleWithWebIdentity with a broker-signed OIDC token), tagged with the task, workload and
 * session, narrowed by a session policy built from the granted scopes (docs/providers/aws-sts.md).
 *
 * There is no `renew`: STS cannot extend a session, so a longer life means a new credential.
 *
 * Revocation (the `revocable` variant): AWS cannot revoke one role session, so `revoke` adds the
 * session to its task's inline deny policy on the role (see {@link DenyRevocation}); IAM then refuses
 * every later request of that session, after IAM's propagation delay (usually seconds). `verifyRevoked`
 * cannot make a call with the session (the secret is never kept), so it confirms that the deny naming
 * the session is on the role, or that the session has expired; moto, used in the tests, stores such
 * policies but does not evaluate their conditions.
 */
export function createAwsStsAdapters(deps: AwsStsAdapterDeps): AwsStsAdapters {
  const backendFor = createBackendCache(deps);
  const denies = new DenyRevocation();
  const signer = () => requireSigner(deps);

  function variant(revocation: AwsStsConfig['revocation']): AwsStsAdapter {
    const revocable = revocation === 'deny-policy';
    return Object.freeze({
      kind: AWS_STS_ADAPTER_KIND,
      revocability: revocable ? ('revocable' as const) : ('expires-only' as const),
      parseConfig(raw: unknown): AwsStsConfig {
        const config = parseAwsStsConfig(raw);
        if (config.revocation !== revocation) {
          throw new AdapterConfigError([`revocation: this adapter variant serves ${revocation} only`]);
        }
        return config;
      },
      parseHandle: parseAwsStsHandle,
      issue: (ctx: IssueContext<AwsStsConfig>) => issueSession(ctx, backendFor(ctx.config), signer),
      async revoke(ctx: HandleContext<AwsStsConfig, AwsStsHandle>): Promise<void> {
        // expires-only: nothing at AWS can end the session early; it dies at `expires_at`.
        if (!revocable || expired(ctx.handle, ctx.now)) return;
        const { handle } = ctx;
        const role = roleNameOf(handle.role_arn)!;
        const backend = backendFor(ctx.config);
        await denies.denySession(
          backend,
          role,
          handle.task_id,
          handle.session_name,
          handle.expires_at,
          ctx.now,
        );
      },
      async verifyRevoked(ctx: HandleContext<AwsStsConfig, AwsStsHandle>): Promise<RevocationCheck> {
        const { handle } = ctx;
        if (expired(handle, ctx.now)) return { confirmed: true, detail: 'session has expired at aws' };
        if (!revocable)
          return { confirmed: false, detail: 'expires-only provider: the session lives until it expires' };
        const role = roleNameOf(handle.role_arn)!;
        const check = await denies.check(backendFor(ctx.config), role, handle.task_id, handle.session_name);
        return { confirmed: check.denied, detail: check.detail };
      },
      cleanupExpiredDenies: (config: AwsStsConfig, now: Date) =>
        denies.cleanupExpiredDenies(backendFor(config), config.roleName, now),
    });
  }

  return Object.freeze({ revocable: variant('deny-policy'), expiresOnly: variant('none') });
}

/**
 * The `aws-sts` provider kind for the registry: parses each provider's configuration once and binds it
 * to the variant its `revocation` setting selects, so each provider declares its own revocability.
 */
export function createAwsStsAdapterKind(deps: AwsStsAdapterDeps): AdapterKind {
  const adapters = createAwsStsAdapters(deps);
  return Object.freeze({
    kind: AWS_STS_ADAPTER_KIND,
    instantiate(name: string, rawConfig: unknown) {
      const config = parseAwsStsConfig(rawConfig);
      const adapter = config.revocation === 'deny-policy' ? adapters.revocable : adapters.expiresOnly;
      return bindProvider(name, adapter, config);
    },
  });
}

export { parseAwsStsConfig, type AwsStsConfig } from './config.js';
export { parseAwsStsHandle, type AwsStsHandle } from './handle.js';
export type { DenyCleanupReport } from './deny-revocation.js';
export {
  createKeyringWebIdentitySigner,
  type WebIdentityTokenRequest,
  type WebIdentityTokenSigner,
} from './web-identity-token.js';
