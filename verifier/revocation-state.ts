/** A revocation feed event as the broker sends it (`data:` of `GET /v1/revocations/stream`). */
export interface FeedEventData {
  readonly seq: string;
  readonly type: string;
  readonly occurred_at: string;
  readonly task_id: string | null;
  readonly credential_id: string | null;
  readonly workload: string | null;
  readonly provider: string | null;
  readonly jti: string | null;
  readonly expires_at?: string | null;
}

const TASK_ENDED = new Set(['task.completed', 'task.failed', 'task.expired', 'task.revoked']);
const CREDENTIAL_ENDED = new Set(['credential.revoked', 'credential.revoke_failed']);

/**
 * What the verifier knows from the feed: revoked token ids and ended tasks, each kept until every
 * token it concerns has expired (the event's `expires_at`, or `occurred_at` plus the longest token
 * lifetime when the broker did not say), then pruned, so memory follows what is live.
 */
export class RevocationState {
  readonly #revokedJtis = new Map<string, number>();
  readonly #endedTasks = new Map<string, number>();

  constructor(private readonly maxTokenLifetimeMs: number) {}

  /** Records one feed event; events that end nothing a token can name are ignored. */
  apply(event: FeedEventData): void {
    const until = this.#until(event);
    if (TASK_ENDED.has(event.type) && event.task_id) this.#keep(this.#endedTasks, event.task_id, until);
    if (CREDENTIAL_ENDED.has(event.type) && event.jti) this.#keep(this.#revokedJtis, event.jti, until);
  }

  /** Whether a token with this jti of this task must be rejected. */
  isRevoked(jti: string, taskId: string): boolean {
    return this.#revokedJtis.has(jti) || this.#endedTasks.has(taskId);
  }

  /** Drops entries whose tokens have all expired at `now`. */
  prune(now: Date): void {
    const t = now.getTime();
    for (const map of [this.#revokedJtis, this.#endedTasks]) {
      for (const [key, until] of map) if (until < t) map.delete(key);
    }
  }

  /** Entry counts (diagnostics). */
  size(): { jtis: number; tasks: number } {
    return { jtis: this.#revokedJtis.size, tasks: this.#endedTasks.size };
  }

  #until(event: FeedEventData): number {
    const expires = event.expires_at ? Date.parse(event.expires_at) : NaN;
    if (!Number.isNaN(expires)) return expires;
    const occurred = Date.parse(event.occurred_at);
    // Without a usable time, keep it for good: forgetting a revocation would fail open.
    return Number.isNaN(occurred) ? Number.POSITIVE_INFINITY : occurred + this.maxTokenLifetimeMs;
  }

  #keep(map: Map<string, number>, key: string, until: number): void {
    map.set(key, Math.max(until, map.get(key) ?? 0));
  }
}
