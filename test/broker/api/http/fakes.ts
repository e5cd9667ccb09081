// Fake ports for the HTTP layer (SPIRE's test/fakes style): in-memory state, a role table, and
// failure injection with failNextWith(op, err). No call-order mocks.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { BrokerError } from '../../../../broker/errors.js';
import type { Task } from '../../../../broker/domain/task.js';
import type { ChainBroken, ChainOk } from '../../../../broker/ledger/hash-chain.js';
import type { AuditQuery, LedgerEvent } from '../../../../broker/store/issuance-store.js';
import { REDACT_PATHS } from '../../../../broker/log.js';
import type {
  AuthFacts,
  Caller,
  HttpPorts,
  IssueCredentialInput,
  StartTaskInput,
  TokenExchangeInput,
} from '../../../../broker/api/ports.js';
import { createHttpServer, type HttpServerOptions } from '../../../../broker/api/http/server.js';
import { SpiffeError } from '../../../../spiffe/errors.js';
import type { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { spiffeIdLiteral } from '../../../support/test-ca.js';

export const WORKLOAD = spiffeIdLiteral('spiffe://example.org/agent');
export const OTHER_WORKLOAD = spiffeIdLiteral('spiffe://example.org/other-agent');
export const OPERATOR = spiffeIdLiteral('spiffe://example.org/operator');

/** Bearer tokens the fake authenticator accepts, and whom they authenticate. */
export const TOKENS = {
  workload: 'workload.jwt.svid',
  other: 'other.jwt.svid',
  operator: 'operator.jwt.svid',
};
const BY_TOKEN = new Map<string, SpiffeId>([
  [TOKENS.workload, WORKLOAD],
  [TOKENS.other, OTHER_WORKLOAD],
  [TOKENS.operator, OPERATOR],
]);

/** The port methods that accept injected failures. */
export type FakeOp =
  | 'authenticate'
  | 'tasks.start'
  | 'tasks.get'
  | 'tasks.complete'
  | 'tasks.fail'
  | 'tasks.list'
  | 'credentials.issue'
  | 'tokenExchange.exchange'
  | 'introspection.introspect'
  | 'audit.query'
  | 'audit.verify'
  | 'keys.jwks'
  | 'health.ready';

/** In-memory ports with an operator role (operator, auditor and resource server at once). */
export class FakePorts {
  readonly clock = new FakeClock('2025-01-01T00:00:00Z');
  readonly tasks = new Map<string, Task>();
  readonly authCalls: AuthFacts[] = [];
  readonly exchanges: TokenExchangeInput[] = [];
  readonly auditQueries: AuditQuery[] = [];
  events: LedgerEvent[] = [];
  chain: ChainOk | ChainBroken = {
    ok: true,
    events: 3,
    sealedThrough: 3,
    headHash: 'ab'.repeat(32),
    unsealed: 0,
  };
  readiness: Record<string, boolean> = { store: true, policy: true };
  /** Valid token value for introspection. */
  readonly liveToken = 'live.task.token';
  #nextId = 1;
  readonly #failures = new Map<FakeOp, unknown>();

  /** The next call of `op` throws `err`. */
  failNextWith(op: FakeOp, err: unknown): void {
    this.#failures.set(op, err);
  }

  #check(op: FakeOp): void {
    if (!this.#failures.has(op)) return;
    const err = this.#failures.get(op);
    this.#failures.delete(op);
    throw err;
  }

  #requireOperator(caller: Caller): void {
    if (!caller.id.equals(OPERATOR))
      throw new BrokerError('BROKER_POLICY_DENIED', 'caller is not an operator');
  }

  #owned(caller: Caller, id: string): Task {
    const task = this.tasks.get(id);
    if (!task || !task.workload.equals(caller.id)) throw new BrokerError('BROKER_TASK_NOT_FOUND');
    return task;
  }

  #end(caller: Caller, id: string, status: 'completed' | 'failed'): Task {
    const task = this.#owned(caller, id);
    if (task.status !== 'active') throw new BrokerError('BROKER_TASK_ALREADY_ENDED');
    const ended = { ...task, status };
    this.tasks.set(id, ended);
    return ended;
  }

  /** A task owned by `workload`, stored directly. */
  seedTask(workload: SpiffeId = WORKLOAD): Task {
    const now = this.clock.now();
    const task: Task = {
      id: `task-${this.#nextId++}`,
      workload,
      intent: { name: 'summarise', text: 'ticket 123' },
      manifest: [{ provider: 'crm-api', scopes: ['crm.read'] }],
      createdAt: now,
      deadline: new Date(now.getTime() + 600_000),
      parent: null,
      status: 'active',
    };
    this.tasks.set(task.id, task);
    return task;
  }

  /** The ports, bound to this fake's state. */
  ports(): HttpPorts {
    return {
      authenticate: async (facts) => {
        this.authCalls.push(facts);
        this.#check('authenticate');
        const svidExpiresAt = new Date(this.clock.now().getTime() + 3_600_000);
        if (facts.peerCertificates) return { id: WORKLOAD, via: 'x509-svid', svidExpiresAt };
        const id = BY_TOKEN.get(facts.bearer ?? '');
        if (!id) throw new SpiffeError('SPIFFE_JWT_BAD_SIGNATURE');
        return { id, via: 'jwt-svid', svidExpiresAt };
      },
      tasks: {
        start: async (caller, input: StartTaskInput) => {
          this.#check('tasks.start');
          const now = this.clock.now();
          const task: Task = {
            id: `task-${this.#nextId++}`,
            workload: caller.id,
            intent: { name: input.intent.name, text: input.intent.text ?? '' },
            manifest: input.manifest,
            createdAt: now,
            deadline: new Date(now.getTime() + (input.ttlSeconds ?? 600) * 1000),
            parent: input.parentTaskId ?? null,
            status: 'active',
          };
          this.tasks.set(task.id, task);
          return task;
        },
        get: async (caller, id) => (this.#check('tasks.get'), this.#owned(caller, id)),
        complete: async (caller, id) => (this.#check('tasks.complete'), this.#end(caller, id, 'completed')),
        fail: async (caller, id) => (this.#check('tasks.fail'), this.#end(caller, id, 'failed')),
        list: async (caller, filter) => {
          this.#check('tasks.list');
          this.#requireOperator(caller);
          const items = [...this.tasks.values()].filter(
            (t) =>
              (!filter.workload || t.workload.equals(filter.workload)) &&
              (!filter.status || t.status === filter.status),
          );
          return {
            items: items.slice(0, filter.limit ?? 100),
            nextCursor: items.length > (filter.limit ?? 100) ? 'next' : null,
          };
        },
      },
      credentials: {
        issue: async (caller, input: IssueCredentialInput) => {
          this.#check('credentials.issue');
          const task = this.#owned(caller, input.taskId);
          const now = this.clock.now();
          const ttl = input.ttlSeconds ?? 300;
          return {
            credential: {
              id: `cred-${this.#nextId++}`,
              taskId: task.id,
              provider: input.provider,
              scopes: input.scopes,
              issuedAt: now,
              expiresAt: new Date(now.getTime() + ttl * 1000),
              revocability: 'revocable',
              status: 'active',
            },
            secret: 'the-secret-value',
          };
        },
      },
      tokenExchange: {
        exchange: async (input) => {
          this.exchanges.push(input);
          this.#check('tokenExchange.exchange');
          if (!BY_TOKEN.has(input.subjectToken)) throw new SpiffeError('SPIFFE_JWT_EXPIRED');
          return {
            accessToken: this.liveToken,
            issuedTokenType: 'urn:ietf:params:oauth:token-type:jwt',
            tokenType: 'Bearer',
            expiresInSeconds: 300,
            scopes: input.scopes,
          };
        },
      },
      introspection: {
        introspect: async (caller, input) => {
          this.#check('introspection.introspect');
          this.#requireOperator(caller);
          if (input.token !== this.liveToken) return { active: false };
          return {
            active: true,
            scope: 'crm.read',
            sub: WORKLOAD.toString(),
            aud: 'crm-api',
            exp: 1735690000,
            task_id: 'task-1',
            token_type: 'Bearer',
          };
        },
      },
      audit: {
        query: async (caller, query) => {
          this.auditQueries.push(query);
          this.#check('audit.query');
          this.#requireOperator(caller);
          const limit = query.limit ?? 100;
          return {
            items: this.events.slice(0, limit),
            nextCursor: this.events.length > limit ? 'cursor-2' : null,
          };
        },
        verify: async (caller) => (this.#check('audit.verify'), this.#requireOperator(caller), this.chain),
      },
      keys: {
        jwks: async () => {
          this.#check('keys.jwks');
          return {
            keys: [{ kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy', kid: 'k1', alg: 'ES256', use: 'sig' }],
          };
        },
      },
      health: { ready: async () => (this.#check('health.ready'), this.readiness) },
    };
  }
}

/** A ledger event for audit tests. */
export function ledgerEvent(seq: number, overrides: Partial<LedgerEvent> = {}): LedgerEvent {
  return {
    seq,
    type: 'credential.issued',
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)),
    workload: WORKLOAD,
    taskId: 'task-1',
    credentialId: `cred-${seq}`,
    provider: 'crm-api',
    decision: 'allow',
    reason: null,
    rule: 'agents',
    details: { ttl_seconds: 300 },
    chainPos: seq,
    hash: 'cd'.repeat(32),
    ...overrides,
  };
}

/** A server over fresh fakes, with its log lines captured. */
export interface Harness {
  readonly fake: FakePorts;
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly logs: Record<string, unknown>[];
}

/** Builds a server over {@link FakePorts}; logs are captured as parsed JSON lines. */
export function harness(opts: Partial<HttpServerOptions> = {}): Harness {
  const fake = new FakePorts();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } }, sink);
  const registry = new Registry();
  const app = createHttpServer(fake.ports(), {
    logger,
    baseUrl: 'https://broker.example.org',
    metrics: registry,
    defaultMetrics: false,
    ...opts,
  });
  return { fake, app, registry, logs };
}

/** `Authorization` header of a fake bearer token. */
export function bearer(token: string = TOKENS.workload): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
