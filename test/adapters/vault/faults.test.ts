// Faults of Vault and of the network, as tables of cases asserting the error code; and what a failed
// issuance leaves behind in Vault (nothing, or a token bounded by the credential TTL when Vault's
// answer never arrived). Fault injection needs the in-test server: these cases skip against a real one.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { VaultLeaseHandle } from '../../../adapters/vault/index.js';
import { vaultErrorMessages } from '../../../adapters/vault/client.js';
import type { VaultFault } from './support/vault-api-server.js';
import {
  adapterFor,
  DB_MODE,
  issueRequest,
  needsInTestServer,
  PKI_MODE,
  PKI_PATH,
  rejectsWith,
  sharedTarget,
  TOKEN_MODE,
} from './support/vault-fixture.js';
import type { VaultTarget } from './support/vault-target.js';

const target = sharedTarget();
const CREATE = 'auth/token/create-orphan';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Tokens created in `t` after `known` were, that are still alive. */
function liveSince(t: VaultTarget, known: number) {
  const state = t.server!.world.state;
  return state
    .tokens()
    .slice(known)
    .filter((x) => state.alive(x));
}

const ANSWER_FAULTS: [string, VaultFault, string][] = [
  [
    '403 permission denied',
    { status: 403, errors: ['1 error occurred:\n\t* permission denied\n\n'] },
    'BROKER_ADAPTER_BACKEND_DENIED',
  ],
  ['500 internal error', { status: 500, errors: ['internal error'] }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  ['503 sealed', { status: 503, errors: ['Vault is sealed'] }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  [
    '429 rate limited',
    { status: 429, errors: ['request path "x": rate limit quota exceeded'] },
    'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
  ],
  [
    '400 refused',
    { status: 400, errors: ['child policies must be subset of parent'] },
    'BROKER_ADAPTER_BACKEND_REJECTED',
  ],
  ['404 no route', { status: 404, errors: [] }, 'BROKER_ADAPTER_BACKEND_REJECTED'],
  ['malformed json', { rawBody: '{"auth": {"client_token": ' }, 'BROKER_ADAPTER_BACKEND_MALFORMED'],
  ['json that is not an object', { rawBody: '[1, 2]' }, 'BROKER_ADAPTER_BACKEND_MALFORMED'],
  ['an empty 200', { rawBody: '' }, 'BROKER_ADAPTER_BACKEND_MALFORMED'],
  [
    'an html error page',
    { status: 502, rawBody: '<html>bad gateway</html>' },
    'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
  ],
  ['slow: no answer within the timeout', { delayMs: 2500 }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  ['connection closed without an answer', { hangUp: true }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  ['307 redirect from a standby node', { status: 307, rawBody: '' }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
];

describe('vault faults: coded errors', () => {
  for (const [name, fault, code] of ANSWER_FAULTS) {
    it(`token issuance fails with ${code}: ${name}`, async (ctx) => {
      const t = await target();
      if (needsInTestServer(t, ctx)) return;
      const { adapter, config } = adapterFor(t, { ...TOKEN_MODE, timeout: '1s' });
      const known = t.server!.world.state.tokens().length;
      // A 403 makes the session log in again and retry once: the denial must persist to surface.
      for (let i = fault.status === 403 ? 2 : 1; i > 0; i--) t.server!.failNext({ ...fault, path: CREATE });
      const err = await rejectsWith(adapter.issue(issueRequest(t, config)), code);
      const brokerToken = (await readFile(t.brokerTokenFile, 'utf8')).trim();
      assert.ok(!err.message.includes(brokerToken), 'the error names the broker token');
      assert.deepEqual(liveSince(t, known), [], 'something was left behind');
    });
  }

  it('vault down (connection refused) fails every operation with BACKEND_UNAVAILABLE', async () => {
    const t = await target();
    const { adapter, config } = adapterFor(t, {
      ...TOKEN_MODE,
      address: `http://127.0.0.1:${await closedPort()}`,
    });
    const handle = {
      kind: 'token',
      accessor: 'a'.repeat(24),
      renewable: true,
      expiresAt: '2030-01-01T00:00:00Z',
    } as const;
    const now = t.clock.now();
    const code = 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
    await rejectsWith(adapter.issue(issueRequest(t, config)), code);
    await rejectsWith(adapter.revoke({ config, handle, now }), code);
    await rejectsWith(adapter.verifyRevoked({ config, handle, now }), code);
    await rejectsWith(adapter.renew!({ config, handle, now, ttlSeconds: 60 }), code);
  });

  const checkFaults: [string, VaultFault, string][] = [
    [
      '403 is no confirmation',
      { status: 403, errors: ['permission denied'] },
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    [
      '400 about something else is no confirmation',
      { status: 400, errors: ['missing accessor'] },
      'BROKER_ADAPTER_BACKEND_REJECTED',
    ],
    ['500', { status: 500, errors: [] }, 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
  ];
  for (const [name, fault, code] of checkFaults) {
    it(`verifyRevoked never confirms on a failed lookup: ${name}`, async (ctx) => {
      const t = await target();
      if (needsInTestServer(t, ctx)) return;
      const { adapter, config } = adapterFor(t, TOKEN_MODE);
      const issued = await adapter.issue(issueRequest(t, config));
      for (let i = fault.status === 403 ? 2 : 1; i > 0; i--) {
        t.server!.failNext({ ...fault, path: 'auth/token/lookup-accessor' });
      }
      await rejectsWith(adapter.verifyRevoked({ config, handle: issued.handle, now: t.clock.now() }), code);
    });
  }

  it('a failed revocation is an error (the broker retries), and the retry succeeds', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const issued = await adapter.issue(issueRequest(t, config));
    const ctxRevoke = { config, handle: issued.handle, now: t.clock.now() };
    t.server!.failNext({ path: 'sys/leases/revoke', status: 500, errors: ['failed to revoke lease'] });
    await rejectsWith(adapter.revoke(ctxRevoke), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
    assert.equal((await adapter.verifyRevoked(ctxRevoke)).confirmed, false);
    await adapter.revoke(ctxRevoke);
    assert.equal((await adapter.verifyRevoked(ctxRevoke)).confirmed, true);
  });

  it('scrubs token-shaped text out of vault’s error messages', () => {
    const leaked = {
      errors: ['1 error occurred:\n\t* bad token hvs.CAESIJx3Yh7k2ZrT9QmN0pLwQ8aB\n\n', 'plain'],
    };
    assert.deepEqual(vaultErrorMessages(leaked), ['bad token [redacted]', 'plain']);
    assert.deepEqual(vaultErrorMessages('nope'), []);
  });
});

describe('vault faults: a failed issuance leaves nothing behind', () => {
  const tokenCases: [string, VaultFault][] = [
    [
      'token created, answer without client_token',
      {
        afterHandling: true,
        mutate: (b) => ({ ...b, auth: { ...(b['auth'] as object), client_token: '' } }),
      },
    ],
    [
      'token created, lifetime beyond the ttl',
      {
        afterHandling: true,
        mutate: (b) => ({ ...b, auth: { ...(b['auth'] as object), lease_duration: 3600 } }),
      },
    ],
    [
      'token created, no lifetime',
      {
        afterHandling: true,
        mutate: (b) => ({ ...b, auth: { ...(b['auth'] as object), lease_duration: 0 } }),
      },
    ],
  ];
  for (const [name, fault] of tokenCases) {
    it(`revokes what vault created: ${name}`, async (ctx) => {
      const t = await target();
      if (needsInTestServer(t, ctx)) return;
      const { adapter, config } = adapterFor(t, TOKEN_MODE);
      const known = t.server!.world.state.tokens().length;
      t.server!.failNext({ ...fault, path: CREATE });
      await rejectsWith(adapter.issue(issueRequest(t, config)), 'BROKER_ADAPTER_BACKEND_MALFORMED');
      assert.equal(t.server!.world.state.tokens().length, known + 1, 'vault created the token');
      assert.deepEqual(liveSince(t, known), []);
    });
  }

  it('an answer lost after vault created the token leaves only a token bounded by the ttl', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, TOKEN_MODE);
    const known = t.server!.world.state.tokens().length;
    t.server!.failNext({ path: CREATE, afterHandling: true, rawBody: '{"auth": {' });
    const request = issueRequest(t, config, { ttlSeconds: 90 });
    await rejectsWith(adapter.issue(request), 'BROKER_ADAPTER_BACKEND_MALFORMED');
    const [left, ...more] = liveSince(t, known);
    assert.deepEqual(more, []);
    assert.ok(left!.expireAt! <= request.now.getTime() + 90_000, 'the leftover outlives the credential ttl');
    assert.equal(left!.meta['taskpass_task'], request.taskId);
  });

  const readCases: [string, VaultFault, string][] = [
    [
      'read refused with 500 before any lease',
      { status: 500, errors: ['internal error'] },
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'lease created, answer lost to the timeout',
      { afterHandling: true, delayMs: 2500 },
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'lease created, answer without lease_id',
      { afterHandling: true, mutate: (b) => ({ ...b, lease_id: '' }) },
      'BROKER_ADAPTER_BACKEND_MALFORMED',
    ],
    [
      'lease created, answer without data',
      { afterHandling: true, mutate: (b) => ({ ...b, data: null }) },
      'BROKER_ADAPTER_BACKEND_MALFORMED',
    ],
    [
      'lease created, malformed answer',
      { afterHandling: true, rawBody: '{"lease_id":' },
      'BROKER_ADAPTER_BACKEND_MALFORMED',
    ],
  ];
  for (const [name, fault, code] of readCases) {
    it(`dynamic: revokes the holder and every lease it created: ${name}`, async (ctx) => {
      const t = await target();
      if (needsInTestServer(t, ctx)) return;
      const { adapter, config } = adapterFor(t, { ...PKI_MODE, timeout: '1s' });
      const state = t.server!.world.state;
      const tokens = state.tokens().length;
      const leases = state.leases().length;
      t.server!.failNext({ ...fault, path: PKI_PATH });
      await rejectsWith(adapter.issue(issueRequest(t, config)), code);
      assert.deepEqual(liveSince(t, tokens), []);
      assert.ok(
        state
          .leases()
          .slice(leases)
          .every((l) => state.lease(l.id) === undefined),
        'a lease is alive',
      );
    });
  }

  it('dynamic: a holder whose lifetime vault stretched beyond the ttl is revoked before any read', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, PKI_MODE);
    const known = t.server!.world.state.tokens().length;
    const sent = t.server!.requests.length;
    const stretch = (b: Record<string, unknown>) => ({
      ...b,
      auth: { ...(b['auth'] as object), lease_duration: 7200 },
    });
    t.server!.failNext({ path: CREATE, afterHandling: true, mutate: stretch });
    await rejectsWith(adapter.issue(issueRequest(t, config)), 'BROKER_ADAPTER_BACKEND_MALFORMED');
    assert.deepEqual(liveSince(t, known), []);
    assert.deepEqual(
      t.server!.requests.slice(sent).filter((r) => r.path === PKI_PATH),
      [],
      'the engine was read',
    );
  });

  it('dynamic: a renewal failing half-way leaves the credential as it was', async (ctx) => {
    const t = await target();
    if (needsInTestServer(t, ctx)) return;
    const { adapter, config } = adapterFor(t, { ...DB_MODE, renewable: true, explicit_max_ttl: '1h' });
    const issued = await adapter.issue(issueRequest(t, config));
    t.server!.failNext({ path: 'sys/leases/renew', status: 500, errors: [] });
    const renew = { config, handle: issued.handle, now: t.clock.now(), ttlSeconds: 300 };
    await rejectsWith(adapter.renew!(renew), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
    const handle = issued.handle as VaultLeaseHandle;
    assert.ok(t.server!.world.state.lease(handle.leaseId!) !== undefined);
  });
});
