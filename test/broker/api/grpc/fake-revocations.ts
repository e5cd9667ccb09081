// A recording RevocationPort and RevocationFeedPort for the gRPC transport's mapping tests: they keep
// what the transport passed in, answer fixed results, refuse non-operators as the real port does, and
// fail on demand (failNextWith).
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import type {
  Caller,
  RevocationFeedEvent,
  RevocationFeedPort,
  RevocationPort,
  RevocationResult,
} from '../../../../broker/api/ports.js';
import { BrokerError } from '../../../../broker/errors.js';
import type { Credential } from '../../../../broker/domain/credential.js';

export const RESULT: RevocationResult = {
  revocationId: '11111111-1111-4111-8111-111111111111',
  tasks: ['22222222-2222-4222-8222-222222222222'],
  credentials: [
    {
      id: '33333333-3333-4333-8333-333333333333',
      taskId: '22222222-2222-4222-8222-222222222222',
      provider: 'crm-api',
      outcome: 'not_revocable',
      expiresAt: new Date('2030-01-01T00:05:00Z'),
    },
  ],
  counts: { revoked: 0, pending: 0, notRevocable: 1 },
  exposedUntil: new Date('2030-01-01T00:05:00Z'),
};

export const CREDENTIAL: Credential = {
  id: '33333333-3333-4333-8333-333333333333',
  taskId: '22222222-2222-4222-8222-222222222222',
  provider: 'crm-api',
  scopes: ['crm:read'],
  issuedAt: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-01T00:05:00Z'),
  revocability: 'revocable',
  status: 'revoke_failed',
};

/** The fakes and what they recorded. */
export class FakeRevocations {
  readonly calls: { method: string; caller: string; input: unknown }[] = [];
  readonly subscriptions: { afterSeq?: string; unsubscribed: boolean }[] = [];
  #next: Error | undefined;
  #live: ((e: RevocationFeedEvent) => void)[] = [];
  #errors: ((e: Error) => void)[] = [];

  constructor(private readonly operator: string) {}

  /** The next call (of any method) throws `err`. */
  failNextWith(err: Error): void {
    this.#next = err;
  }

  /** Delivers `event` to every open subscription. */
  push(event: RevocationFeedEvent): void {
    for (const deliver of this.#live) deliver(event);
  }

  /** Fails every open subscription. */
  breakFeed(err: Error): void {
    for (const fail of this.#errors) fail(err);
  }

  #record(method: string, caller: Caller, input: unknown): void {
    this.calls.push({ method, caller: caller.id.toString(), input });
    const next = this.#next;
    this.#next = undefined;
    if (next) throw next;
    if (caller.id.toString() !== this.operator)
      throw new BrokerError('BROKER_POLICY_DENIED', 'not an operator');
  }

  get port(): RevocationPort {
    return {
      revoke: async (caller, input) => {
        this.#record('revoke', caller, input);
        return RESULT;
      },
      quarantine: async (caller, input) => {
        this.#record('quarantine', caller, input);
        return {
          workload: input.workload,
          reason: input.reason,
          since: new Date('2030-01-01T00:00:00Z'),
          by: this.operator,
          revocation: RESULT,
        };
      },
      lift: async (caller, input) => this.#record('lift', caller, input),
      quarantines: async (caller) => {
        this.#record('quarantines', caller, undefined);
        return [
          {
            workload: SpiffeId.parse('spiffe://taskpass.local/agents/bad'),
            reason: 'leak',
            since: new Date('2030-01-01T00:00:00Z'),
            by: 'signal:7',
          },
        ];
      },
      credentials: async (caller, filter) => {
        this.#record('credentials', caller, filter);
        return { items: [CREDENTIAL], nextCursor: 'next-page' };
      },
      retryFailed: async (caller, input) => {
        this.#record('retryFailed', caller, input);
        return { requeued: input.credentialId ? 1 : 3 };
      },
    };
  }

  get feed(): RevocationFeedPort {
    return {
      subscribe: async (caller, options, onEvent, onError) => {
        this.#record('subscribe', caller, options);
        const sub = { ...options, unsubscribed: false };
        this.subscriptions.push(sub);
        this.#live.push(onEvent);
        this.#errors.push(onError);
        onEvent(event('5', 'credential.revoked'));
        return () => {
          sub.unsubscribed = true;
          this.#live = this.#live.filter((f) => f !== onEvent);
          this.#errors = this.#errors.filter((f) => f !== onError);
        };
      },
    };
  }
}

/** A feed event. */
export function event(seq: string, type: string): RevocationFeedEvent {
  return {
    seq,
    type,
    occurred_at: '2030-01-01T00:00:00.000Z',
    task_id: '22222222-2222-4222-8222-222222222222',
    credential_id: type.startsWith('credential.') ? '33333333-3333-4333-8333-333333333333' : null,
    workload: 'spiffe://taskpass.local/dev/workload',
    provider: 'crm-api',
    jti: null,
    expires_at: '2030-01-01T00:05:00.000Z',
  };
}
