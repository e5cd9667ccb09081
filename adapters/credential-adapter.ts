import { createHash } from 'node:crypto';
import { BrokerError } from '../broker/errors.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';

/**
 * Whether a provider's credentials can be killed before they expire (DESIGN.md, "Credential
 * provider"): `revocable` ones are revoked at the backend when their task ends; `expires-only` ones
 * cannot be, and their exposure is bounded by their TTL. Shown to operators and written to the ledger.
 */
export type Revocability = 'revocable' | 'expires-only';

/** A JSON value, as a revocation handle is stored in the issuance row and read back. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A JSON object: the shape every revocation handle has (declare handles as `type`, not `interface`). */
export type JsonObject = { readonly [key: string]: JsonValue };

/** What the broker asks a provider to mint: one credential for one task of one workload. */
export interface IssueContext<Config> {
  readonly config: Config;
  readonly taskId: string;
  readonly workload: SpiffeId;
  /** The granted scopes, already allowed by policy; each an RFC 6749 §3.3 scope-token. */
  readonly scopes: readonly string[];
  /** The credential lifetime the broker computed (DESIGN.md invariant 2); a positive whole number. */
  readonly ttlSeconds: number;
  readonly now: Date;
}

/** A minted credential. */
export interface IssuedCredential<Handle extends JsonObject> {
  /** The credential itself, handed to the workload once and never stored. */
  readonly secret: string;
  /** What the broker persists to revoke it later (accessor, lease id, role name, token id): never the secret. */
  readonly handle: Handle;
  /** When the backend stops honouring it; never after `now + ttlSeconds` unless the adapter says why. */
  readonly expiresAt: Date;
  readonly renewable: boolean;
  /** {@link hashSecret} of `secret`, when the broker must recognise the secret later (introspection). */
  readonly secretHash?: string;
  /**
   * Declared when the backend cannot mint a credential as short as asked and the provider is configured
   * to round up (STS sessions last at least 900 s): `expiresAt` is then up to `minimumSeconds` after
   * `now`, later than `now + ttlSeconds`. The broker decides whether such a credential may be released
   * (DESIGN.md invariant 2) and records that it was; absent on every other credential.
   */
  readonly ttlRoundedUp?: { readonly requestedSeconds: number; readonly minimumSeconds: number };
}

/** A call about an issued credential, identified by its handle. */
export interface HandleContext<Config, Handle extends JsonObject> {
  readonly config: Config;
  readonly handle: Handle;
  readonly now: Date;
}

/** A renewal request: extend the credential to `now + ttlSeconds` at most. */
export interface RenewContext<Config, Handle extends JsonObject> extends HandleContext<Config, Handle> {
  readonly ttlSeconds: number;
}

/** The outcome of a renewal: the new expiry and the handle to persist from now on. */
export interface RenewedCredential<Handle extends JsonObject> {
  readonly handle: Handle;
  readonly expiresAt: Date;
}

/** The answer of {@link CredentialAdapter.verifyRevoked}. */
export interface RevocationCheck {
  /** True when the backend confirms the credential no longer works. */
  readonly confirmed: boolean;
  /** What was checked and what the backend said, for the ledger (never a secret). */
  readonly detail: string;
}

/**
 * The one contract every credential backend implements (EXAMPLES.md `adapters/`, after Vault's
 * `logical.Backend` secrets and Infisical's dynamic-secret providers). It is generic over the
 * adapter's parsed `Config` and its revocation `Handle`, so neither crosses it as `unknown`: raw input
 * enters only through {@link parseConfig} and {@link parseHandle}, which validate it.
 *
 * Errors are {@link BrokerError}s with `BROKER_ADAPTER_*` codes; backend errors are translated where
 * they enter. Every method is safe to call concurrently.
 */
export interface CredentialAdapter<Config, Handle extends JsonObject> {
  /** The provider kind named in configuration (`jwt`, `vault`, `aws-sts`, `postgres-role`, `fake`). */
  readonly kind: string;
  readonly revocability: Revocability;
  /**
   * Validates one provider instance's configuration (without its `kind`).
   *
   * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem, not just the first.
   */
  parseConfig(raw: unknown): Config;
  /**
   * Validates a handle read back from storage.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
   */
  parseHandle(raw: unknown): Handle;
  /**
   * Mints a credential. A failed issuance leaves nothing behind in the backend.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` for a TTL or scopes the provider cannot express,
   * `BROKER_ADAPTER_BACKEND_*` when the backend fails.
   */
  issue(ctx: IssueContext<Config>): Promise<IssuedCredential<Handle>>;
  /**
   * Revokes a credential at the backend. Idempotent: revoking one that is already revoked, expired or
   * gone succeeds. For an `expires-only` adapter it is a documented no-op.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_*` when the backend fails (the broker retries).
   */
  revoke(ctx: HandleContext<Config, Handle>): Promise<void>;
  /**
   * Extends a renewable credential. Absent when the provider never renews (the adapter says why).
   *
   * @throws {BrokerError} `BROKER_ADAPTER_RENEW_UNSUPPORTED` for a credential issued as not renewable.
   */
  renew?(ctx: RenewContext<Config, Handle>): Promise<RenewedCredential<Handle>>;
  /**
   * Checks at the backend that a revoked credential no longer works (a token lookup fails, a login
   * fails); the broker records when revocation was confirmed.
   */
  verifyRevoked(ctx: HandleContext<Config, Handle>): Promise<RevocationCheck>;
}

/**
 * The lowercase hex SHA-256 of a secret: the only form in which a secret is ever stored or compared
 * (`secretHash` of {@link IssuedCredential}).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * A `BROKER_ADAPTER_BAD_CONFIG` error carrying every problem found, each prefixed by where it is
 * (`audience: must be a non-empty string`).
 */
export class AdapterConfigError extends BrokerError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('BROKER_ADAPTER_BAD_CONFIG', problems.join('; '));
    this.problems = Object.freeze([...problems]);
  }
}

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The checks every adapter makes on an issue request before touching its backend: a non-empty task id,
 * a positive whole TTL, and scopes that are distinct RFC 6749 §3.3 scope-tokens.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` naming the first broken rule.
 */
export function checkIssueRequest(ctx: IssueContext<unknown>): void {
  if (typeof ctx.taskId !== 'string' || ctx.taskId.length === 0) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'task id must be a non-empty string');
  }
  if (!Number.isSafeInteger(ctx.ttlSeconds) || ctx.ttlSeconds <= 0) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'ttl must be a positive whole number of seconds');
  }
  if (!ctx.scopes.every((scope) => SCOPE_TOKEN.test(scope))) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'scopes must be rfc 6749 scope-tokens');
  }
  if (new Set(ctx.scopes).size !== ctx.scopes.length) {
    throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', 'scopes must be distinct');
  }
}

/** Whole seconds since the epoch of `date`, rounded down. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
