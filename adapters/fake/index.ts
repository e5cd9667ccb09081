import { randomBytes, randomUUID } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';
import { ConfigReader } from '../config-reader.js';
import {
  checkIssueRequest,
  hashSecret,
  type CredentialAdapter,
  type HandleContext,
  type IssueContext,
  type IssuedCredential,
  type RenewContext,
  type RenewedCredential,
  type RevocationCheck,
} from '../credential-adapter.js';

/** Parsed configuration of a `fake` provider. */
export interface FakeConfig {
  /** Longest credential it mints (`max_ttl`, default 1h); longer requests are shortened to it. */
  readonly maxTtlSeconds: number;
  /** Whether its credentials can be renewed (`renewable`, default true). */
  readonly renewable: boolean;
}

/** The revocation handle of a fake credential: its id at the fake backend. */
export type FakeHandle = { readonly id: string; readonly expiresAt: string };

/** One credential as the fake backend holds it (its secret only as a hash, as a real backend would). */
export interface FakeCredentialRecord {
  readonly id: string;
  readonly secretHash: string;
  readonly taskId: string;
  readonly workload: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
  readonly revoked: boolean;
}

/** Operations whose next call can be made to fail. */
export type FakeOperation = 'issue' | 'revoke' | 'renew' | 'verifyRevoked';

/**
 * A credential adapter over an in-memory backend (SPIRE `test/fakes` style), with failure injection
 * and inspection for broker tests. It is `revocable` and passes the contract suite.
 */
export interface FakeAdapter extends CredentialAdapter<FakeConfig, FakeHandle> {
  /**
   * Makes the next call of `operation` (or, without one, the next issue, revoke or renew, whichever
   * comes first) throw `err` without touching the backend. Calls queue: two calls fail twice.
   */
  failNextWith(err: Error, operation?: FakeOperation): void;
  /** Every credential the backend holds, in issue order. */
  records(): readonly FakeCredentialRecord[];
  /** Whether the backend would accept `secret` at `now` (issued, not revoked, not expired). */
  accepts(secret: string, now: Date): boolean;
}

const MAX_TTL_LIMIT = 366 * 86400;

/** Creates a fake adapter with an empty backend of its own (no state is shared between instances). */
export function createFakeAdapter(kind = 'fake'): FakeAdapter {
  return new FakeCredentialAdapter(kind);
}

class FakeCredentialAdapter implements FakeAdapter {
  readonly revocability = 'revocable' as const;
  readonly #records = new Map<string, FakeCredentialRecord>();
  readonly #failures: { err: Error; operation: FakeOperation | undefined }[] = [];

  constructor(readonly kind: string) {}

  parseConfig(raw: unknown): FakeConfig {
    const reader = new ConfigReader(raw, ['max_ttl', 'renewable']);
    return reader.finish({
      maxTtlSeconds: reader.duration('max_ttl', 3600, MAX_TTL_LIMIT),
      renewable: reader.boolean('renewable', true),
    });
  }

  parseHandle(raw: unknown): FakeHandle {
    return parseFakeHandle(raw);
  }

  async issue(ctx: IssueContext<FakeConfig>): Promise<IssuedCredential<FakeHandle>> {
    checkIssueRequest(ctx);
    this.#injected('issue');
    const id = `fake-${randomUUID()}`;
    const secret = `fks_${randomBytes(24).toString('base64url')}`;
    const ttl = Math.min(ctx.ttlSeconds, ctx.config.maxTtlSeconds);
    const expiresAt = new Date(ctx.now.getTime() + ttl * 1000);
    const secretHash = hashSecret(secret);
    const scopes = Object.freeze([...ctx.scopes]);
    const record = {
      id,
      secretHash,
      taskId: ctx.taskId,
      workload: ctx.workload.toString(),
      scopes,
      expiresAt,
    };
    this.#records.set(id, Object.freeze({ ...record, revoked: false }));
    const handle = { id, expiresAt: expiresAt.toISOString() };
    return { secret, handle, expiresAt, renewable: ctx.config.renewable, secretHash };
  }

  async revoke(ctx: HandleContext<FakeConfig, FakeHandle>): Promise<void> {
    this.#injected('revoke');
    // Unknown or already revoked: nothing to kill, which is success (revoke is idempotent).
    this.#update(ctx.handle.id, { revoked: true });
  }

  async renew(ctx: RenewContext<FakeConfig, FakeHandle>): Promise<RenewedCredential<FakeHandle>> {
    if (!ctx.config.renewable) throw new BrokerError('BROKER_ADAPTER_RENEW_UNSUPPORTED', this.kind);
    this.#injected('renew');
    const record = this.#records.get(ctx.handle.id);
    if (record === undefined || record.revoked || record.expiresAt <= ctx.now) {
      throw new BrokerError('BROKER_ADAPTER_BACKEND_REJECTED', 'credential is no longer live');
    }
    const ttl = Math.min(ctx.ttlSeconds, ctx.config.maxTtlSeconds);
    const expiresAt = new Date(ctx.now.getTime() + ttl * 1000);
    this.#update(record.id, { expiresAt });
    return { handle: { id: record.id, expiresAt: expiresAt.toISOString() }, expiresAt };
  }

  async verifyRevoked(ctx: HandleContext<FakeConfig, FakeHandle>): Promise<RevocationCheck> {
    this.#injected('verifyRevoked');
    const record = this.#records.get(ctx.handle.id);
    if (record === undefined) return { confirmed: true, detail: 'credential not found at the backend' };
    if (record.revoked) return { confirmed: true, detail: 'backend reports the credential revoked' };
    if (record.expiresAt <= ctx.now) return { confirmed: true, detail: 'credential has expired' };
    return { confirmed: false, detail: 'backend still accepts the credential' };
  }

  failNextWith(err: Error, operation?: FakeOperation): void {
    this.#failures.push({ err, operation });
  }

  records(): readonly FakeCredentialRecord[] {
    return [...this.#records.values()];
  }

  accepts(secret: string, now: Date): boolean {
    const hash = hashSecret(secret);
    return this.records().some((r) => r.secretHash === hash && !r.revoked && r.expiresAt > now);
  }

  #injected(operation: FakeOperation): void {
    const index = this.#failures.findIndex(
      (f) => f.operation === operation || (f.operation === undefined && operation !== 'verifyRevoked'),
    );
    if (index >= 0) throw this.#failures.splice(index, 1)[0]!.err;
  }

  #update(id: string, change: Partial<FakeCredentialRecord>): void {
    const record = this.#records.get(id);
    if (record !== undefined) this.#records.set(id, Object.freeze({ ...record, ...change }));
  }
}

/**
 * Validates a stored fake handle.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
 */
export function parseFakeHandle(raw: unknown): FakeHandle {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const { id, expiresAt } = raw as Record<string, unknown>;
    if (typeof id === 'string' && id.startsWith('fake-') && typeof expiresAt === 'string') {
      if (!Number.isNaN(Date.parse(expiresAt))) return Object.freeze({ id, expiresAt });
    }
  }
  throw new BrokerError('BROKER_ADAPTER_BAD_HANDLE', 'expected {id, expiresAt}');
}
