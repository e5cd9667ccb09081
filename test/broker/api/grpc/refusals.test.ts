// taskpass.v1.Broker refusals over the real app: each bad case gets its gRPC status and its stable
// code in the `taskpass-error-code` trailer, and a malformed or unauthenticated call writes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createDevCa } from '../../../../spiffe/ca/index.js';
import { SpiffeId } from '../../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../../spiffe/trust-domain.js';
import { AGENT, bearer, DEV_WORKLOAD, startHarness, type Harness, type TestClient } from './harness.js';

const { status } = grpc;
const START = {
  intent: { name: 'summarize-ticket', text: 'ticket 123' },
  manifest: [{ provider: 'crm-api', scopes: ['crm:read'] }],
};
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

interface Case {
  readonly name: string;
  readonly method: string;
  readonly request: (taskId: string) => object;
  /** The metadata to send (default: a bearer JWT-SVID of the development workload). */
  readonly md?: (h: Harness) => Promise<grpc.Metadata>;
  readonly status: grpc.status;
  readonly code: string | RegExp;
  /** A refusal before any service call writes no ledger event (DESIGN.md invariant 5). */
  readonly writesNothing?: boolean;
}

const as = (id: string) => async (h: Harness) => bearer(await h.jwt(id));
const raw = (value: string) => async () => {
  const md = new grpc.Metadata();
  md.set('authorization', value);
  return md;
};

const CASES: readonly Case[] = [
  // Authentication.
  {
    name: 'no credentials at all',
    method: 'GetTask',
    request: (id) => ({ id }),
    md: async () => new grpc.Metadata(),
    status: status.UNAUTHENTICATED,
    code: 'BROKER_AUTH_MISSING',
    writesNothing: true,
  },
  {
    name: 'a bearer that is not a JWT-SVID',
    method: 'StartTask',
    request: () => START,
    md: raw('Bearer not.a.jwt'),
    status: status.UNAUTHENTICATED,
    code: 'BROKER_AUTH_INVALID',
    writesNothing: true,
  },
  {
    name: 'another authorization scheme',
    method: 'StartTask',
    request: () => START,
    md: raw('Basic dXNlcjpwYXNz'),
    status: status.UNAUTHENTICATED,
    code: 'BROKER_AUTH_INVALID',
    writesNothing: true,
  },
  {
    name: 'a JWT-SVID for another audience',
    method: 'StartTask',
    request: () => START,
    md: async (h) => bearer(await h.jwt(DEV_WORKLOAD, 'someone-else')),
    status: status.UNAUTHENTICATED,
    code: 'BROKER_AUTH_INVALID',
    writesNothing: true,
  },
  {
    name: 'a JWT-SVID from a foreign trust domain',
    method: 'StartTask',
    request: () => START,
    md: async (h) => {
      const foreign = await createDevCa({ trustDomain: TrustDomain.parse('evil.example'), clock: h.clock });
      const svid = await foreign.mintJwtSvid({
        id: SpiffeId.parse('spiffe://evil.example/dev/workload'),
        now: h.clock.now(),
        audience: [h.app.config.audience],
      });
      return bearer(svid.token);
    },
    status: status.UNAUTHENTICATED,
    code: 'BROKER_AUTH_INVALID',
    writesNothing: true,
  },
  // Authorization.
  {
    name: "another workload's task (indistinguishable from a missing one)",
    method: 'GetTask',
    request: (id) => ({ id }),
    md: as(AGENT),
    status: status.NOT_FOUND,
    code: 'BROKER_TASK_NOT_FOUND',
  },
  {
    name: "issuing for another workload's task",
    method: 'IssueCredential',
    request: (id) => ({ task_id: id, provider: 'crm-api', scopes: ['crm:read'] }),
    md: as(AGENT),
    status: status.NOT_FOUND,
    code: 'BROKER_TASK_NOT_FOUND',
  },
  {
    name: 'a scope outside the policy',
    method: 'IssueCredential',
    request: (id) => ({ task_id: id, provider: 'crm-api', scopes: ['crm:admin'] }),
    status: status.PERMISSION_DENIED,
    code: 'BROKER_POLICY_DENIED',
  },
  {
    name: 'an intent outside the policy',
    method: 'StartTask',
    request: () => ({ ...START, intent: { name: 'drop-database' } }),
    status: status.PERMISSION_DENIED,
    code: 'BROKER_POLICY_DENIED',
  },
  {
    name: 'a non-operator listing tasks',
    method: 'ListTasks',
    request: () => ({}),
    md: as(AGENT),
    status: status.PERMISSION_DENIED,
    code: 'BROKER_POLICY_DENIED',
  },
  {
    name: 'a non-auditor querying the ledger',
    method: 'QueryAudit',
    request: () => ({}),
    md: as(AGENT),
    status: status.PERMISSION_DENIED,
    code: 'BROKER_POLICY_DENIED',
  },
  {
    name: 'a non-auditor verifying the ledger',
    method: 'VerifyAudit',
    request: () => ({}),
    md: as(AGENT),
    status: status.PERMISSION_DENIED,
    code: 'BROKER_POLICY_DENIED',
  },
  {
    name: 'an unknown task',
    method: 'CompleteTask',
    request: () => ({ id: UNKNOWN_ID }),
    status: status.NOT_FOUND,
    code: 'BROKER_TASK_NOT_FOUND',
    writesNothing: true,
  },
  // Malformed input.
  ...(
    [
      ['GetTask', { id: 'not-a-uuid' }],
      ['GetTask', {}],
      ['CompleteTask', { id: `${UNKNOWN_ID}x` }],
      ['FailTask', { id: "1' OR '1'='1" }],
      ['IssueCredential', { task_id: 'task-1', provider: 'crm-api', scopes: ['crm:read'] }],
      ['StartTask', { ...START, parent_task_id: 'nope' }],
      ['QueryAudit', { task_id: 'nope' }],
      ['RetryFailedRevocations', { credential_id: 'nope' }],
    ] as const
  ).map(([method, request]): Case => ({
    name: `${method} with a malformed id ${JSON.stringify(request)}`,
    method,
    request: () => request,
    status: status.INVALID_ARGUMENT,
    code:
      method === 'RetryFailedRevocations'
        ? /^BROKER_(INPUT_INVALID|GRPC_UNIMPLEMENTED)$/
        : 'BROKER_INPUT_INVALID',
    writesNothing: true,
  })),
  ...(
    [
      ['an intent name over 128 characters', { ...START, intent: { name: 'x'.repeat(129) } }],
      [
        'an intent text over 1024 characters',
        { ...START, intent: { name: 'summarize-ticket', text: 'x'.repeat(1025) } },
      ],
      ['no intent name', { ...START, intent: { text: 'hello' } }],
      ['33 manifest entries', { ...START, manifest: Array.from({ length: 33 }, () => START.manifest[0]) }],
      ['a provider name with a space', { ...START, manifest: [{ provider: 'crm api', scopes: [] }] }],
      ['a scope with a space', { ...START, manifest: [{ provider: 'crm-api', scopes: ['crm read'] }] }],
      [
        'a scope over 256 characters',
        { ...START, manifest: [{ provider: 'crm-api', scopes: ['s'.repeat(257)] }] },
      ],
      [
        '65 scopes',
        {
          ...START,
          manifest: [{ provider: 'crm-api', scopes: Array.from({ length: 65 }, (_, i) => `s${i}`) }],
        },
      ],
      [
        'a repeated scope',
        { ...START, manifest: [{ provider: 'crm-api', scopes: ['crm:read', 'crm:read'] }] },
      ],
      ['a zero ttl', { ...START, ttl_seconds: 0 }],
      ['a ttl over seven days', { ...START, ttl_seconds: 7 * 24 * 3600 + 1 }],
    ] as const
  ).map(([what, request]): Case => ({
    name: `StartTask with ${what}`,
    method: 'StartTask',
    request: () => request,
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  })),
  {
    name: 'a task list filter that is not a SPIFFE ID',
    method: 'ListTasks',
    request: () => ({ workload: 'spiffe://taskpass.local/a/../b' }),
    status: status.INVALID_ARGUMENT,
    code: 'SPIFFE_ID_DOT_SEGMENT',
    writesNothing: true,
  },
  {
    name: 'an unknown task status filter',
    method: 'ListTasks',
    request: () => ({ status: 'zombie' }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
  {
    name: 'a page size over 1000',
    method: 'ListTasks',
    request: () => ({ limit: 1001 }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
  {
    name: 'an audit time that is not RFC 3339',
    method: 'QueryAudit',
    request: () => ({ from: 'yesterday' }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
  {
    name: 'an unknown audit event type',
    method: 'QueryAudit',
    request: () => ({ types: ['task.started', 'task.exploded'] }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
  {
    name: 'a malformed audit cursor',
    method: 'QueryAudit',
    request: () => ({ cursor: '!!' }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_LEDGER_BAD_CURSOR',
    writesNothing: true,
  },
  {
    name: 'introspection without a token',
    method: 'Introspect',
    request: () => ({}),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
  {
    name: 'an introspected token over 8192 characters',
    method: 'Introspect',
    request: () => ({ token: 'x'.repeat(8193) }),
    status: status.INVALID_ARGUMENT,
    code: 'BROKER_INPUT_INVALID',
    writesNothing: true,
  },
];

describe('taskpass.v1.Broker refusals', { timeout: 120_000 }, () => {
  let h: Harness;
  let client: TestClient;
  let taskId: string;

  before(async () => {
    h = await startHarness();
    client = h.unixClient();
    const started = await client.call<{ id: string }>('StartTask', START, bearer(await h.jwt(DEV_WORKLOAD)));
    assert.equal(started.status, undefined, started.details);
    taskId = started.value!.id;
  });
  after(() => h.close());

  for (const c of CASES) {
    it(`refuses ${c.name}`, async () => {
      const before = c.writesNothing ? await h.eventCount() : 0;
      const md = await (c.md ?? as(DEV_WORKLOAD))(h);
      const out = await client.call(c.method, c.request(taskId), md);
      assert.equal(out.status, c.status, `${grpc.status[out.status ?? 0]} ${out.code} ${out.details}`);
      if (typeof c.code === 'string') assert.equal(out.code, c.code);
      else assert.match(out.code ?? '', c.code);
      assert.ok(out.details && !out.details.includes('eyJ'), 'details never carry a token');
      if (c.writesNothing) assert.equal(await h.eventCount(), before);
    });
  }

  it('refuses an authorization carrying two tokens rather than guessing between them', async () => {
    // grpc-js clients refuse to send the key twice; other HTTP/2 peers can, and they arrive joined.
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${await h.jwt(DEV_WORKLOAD)}, Bearer ${await h.jwt(AGENT)}`);
    const out = await client.call('GetTask', { id: taskId }, md);
    assert.equal(out.status, status.UNAUTHENTICATED);
    assert.equal(out.code, 'BROKER_AUTH_INVALID');
  });

  it('answers a non-operator Revoke PERMISSION_DENIED, or UNIMPLEMENTED without the revocation engine', async () => {
    const out = await client.call('Revoke', { task_id: taskId, reason: 'test' }, bearer(await h.jwt(AGENT)));
    if (h.ports.revocations === undefined) {
      assert.equal(out.status, status.UNIMPLEMENTED);
      assert.equal(out.code, 'BROKER_GRPC_UNIMPLEMENTED');
    } else {
      assert.equal(out.status, status.PERMISSION_DENIED);
      assert.equal(out.code, 'BROKER_POLICY_DENIED');
    }
  });

  it('records a policy refusal in the ledger (credential.denied for the scope outside the policy)', async () => {
    const res = await h.app.store.queryEvents({ taskId, types: ['credential.denied'] });
    assert.ok(res.items.length >= 1);
  });
});

describe('taskpass.v1.Broker message size', { timeout: 60_000 }, () => {
  it('refuses a request over the message limit RESOURCE_EXHAUSTED before any handler runs', async () => {
    const h = await startHarness({ maxMessageBytes: 4096 });
    try {
      const before = await h.eventCount();
      const out = await h
        .unixClient()
        .call(
          'StartTask',
          { ...START, intent: { name: 'x', text: 'y'.repeat(5000) } },
          bearer(await h.jwt(DEV_WORKLOAD)),
        );
      assert.equal(out.status, status.RESOURCE_EXHAUSTED);
      assert.equal(await h.eventCount(), before);
    } finally {
      await h.close();
    }
  });
});
