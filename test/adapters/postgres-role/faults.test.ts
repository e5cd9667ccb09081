import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createPostgresRoleAdapter,
  type PostgresRoleAdapter,
} from '../../../adapters/postgres-role/index.js';
import { roleName } from '../../../adapters/postgres-role/credential.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { connect, openTarget, rewriteUrl, targetSkip, type Target } from './support.js';

const WORKLOAD = SpiffeId.parse('spiffe://example.org/agent/faulty');
const ADMIN_PASSWORD = 'adm1n-s3cret-never-shown';

/** Listens on loopback and accepts connections that it never answers (a hung server). */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const hole = await blackHole();
  await hole.close();
  return hole.port;
}

// Every failure mode answers with a code, promptly, and leaves no role behind.
describe('postgres-role faults on a real postgres server', { skip: targetSkip(), timeout: 60_000 }, () => {
  let target: Target;
  const adapters: PostgresRoleAdapter[] = [];
  before(async () => {
    target = await openTarget();
  });
  after(async () => {
    await Promise.all(adapters.map((a) => a.close()));
    await target?.cleanup();
  });

  function provider(extra: Record<string, unknown> = {}, nameEntropy?: (size: number) => Buffer) {
    const adapter = createPostgresRoleAdapter(nameEntropy ? { nameEntropy } : {});
    adapters.push(adapter);
    const config = adapter.parseConfig(target.config({ statement_timeout_ms: 500, ...extra }));
    const request = (taskId = 'task-faults', scopes = ['tickets:read']) => ({
      config,
      taskId,
      workload: WORKLOAD,
      scopes,
      ttlSeconds: 300,
      now: new Date(),
    });
    return { adapter, config, request };
  }

  async function rejectsWith(call: Promise<unknown>, code: string): Promise<void> {
    await assert.rejects(call, (err: { code?: string; message?: string }) => {
      assert.equal(err.code, code, err.message);
      for (const secret of [ADMIN_PASSWORD, 'SCRAM-SHA-256'])
        assert.ok(!err.message?.includes(secret), err.message);
      return true;
    });
  }

  it('reports every operation on a server that is down or hangs as BACKEND_UNAVAILABLE', async () => {
    const hole = await blackHole();
    try {
      const ports = [await closedPort(), hole.port];
      for (const port of ports) {
        const url = `postgres://postgres:${ADMIN_PASSWORD}@127.0.0.1:${port}/${target.database}`;
        const { adapter, config, request } = provider({ url, connect_timeout_ms: 300 });
        const handle = {
          role: `${target.prefix}x_abcdefghijkl`,
          database: target.database,
          roleOid: 1,
          expiresAt: '2030-01-01T00:00:00Z',
        };
        const ctx = { config, handle, now: new Date() };
        await rejectsWith(adapter.issue(request()), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
        await rejectsWith(adapter.revoke(ctx), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
        await rejectsWith(adapter.renew!({ ...ctx, ttlSeconds: 60 }), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
        await rejectsWith(adapter.verifyRevoked(ctx), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      }
    } finally {
      await hole.close();
    }
  });

  // [name, provider config change, scopes, code]: none of them may leave a role behind.
  const issueFaults: [string, (t: Target) => Record<string, unknown>, string[], string][] = [
    [
      'admin lacks CREATEROLE',
      (t) => ({ url: rewriteUrl(t.url, { user: t.weakAdmin }) }),
      ['tickets:read'],
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    [
      'admin login refused',
      (t) => ({ url: rewriteUrl(t.url, { user: `${t.prefix}nobody` }) }),
      ['tickets:read'],
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    [
      'target database missing',
      (t) => ({ url: rewriteUrl(t.url, { database: `${t.prefix}gone` }) }),
      ['tickets:read'],
      'BROKER_ADAPTER_BACKEND_REJECTED',
    ],
    [
      'grant of a template the admin may not grant (a superuser role)',
      (t) => ({
        url: rewriteUrl(t.url, { user: t.limitedAdmin }),
        grants: { 'x:all': [t.reader, t.superTemplate] },
      }),
      ['x:all'],
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    [
      'grant of a template that does not exist',
      (t) => ({ grants: { 'x:all': [t.reader, `${t.prefix}missing`] } }),
      ['x:all'],
      'BROKER_ADAPTER_BACKEND_REJECTED',
    ],
    ['a scope the provider has no grants for', () => ({}), ['tickets:delete'], 'BROKER_ADAPTER_BAD_REQUEST'],
    ['no scope at all', () => ({}), [], 'BROKER_ADAPTER_BAD_REQUEST'],
  ];
  for (const [name, change, scopes, code] of issueFaults) {
    it(`refuses to issue with a code and leaves no role behind: ${name}`, async () => {
      const before = await target.credentialRoles();
      const { adapter, request } = provider(change(target));
      await rejectsWith(adapter.issue(request('task-faults', scopes)), code);
      assert.deepEqual(await target.credentialRoles(), before);
    });
  }

  it('retries a taken role name once with a new name, then reports BACKEND_CONFLICT', async () => {
    const same = Buffer.alloc(8, 7);
    const sequence = [same, same, Buffer.alloc(8, 9)];
    const { adapter, request } = provider({}, () => sequence.shift() ?? same);
    const first = await adapter.issue(request('collide1'));
    const second = await adapter.issue(request('collide1')); // same name first, a fresh one on retry
    assert.notEqual(second.handle.role, first.handle.role);

    const stuck = provider({}, () => same);
    const before = await target.credentialRoles();
    await rejectsWith(stuck.adapter.issue(stuck.request('collide1')), 'BROKER_ADAPTER_BACKEND_CONFLICT');
    assert.deepEqual(await target.credentialRoles(), before);
  });

  it('gives up on a blocked CREATE ROLE at statement_timeout, leaving nothing behind', async () => {
    const entropy = Buffer.alloc(8, 3);
    const { adapter, request } = provider({}, () => entropy);
    const name = roleName(target.prefix, 'blocked1', entropy);
    // Another transaction holds the same role name uncommitted: the insert waits on its outcome.
    const blocker = await connect(target.url);
    try {
      await blocker.query(`BEGIN; CREATE ROLE "${name}"`);
      await rejectsWith(adapter.issue(request('blocked1')), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    assert.deepEqual(await target.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]), []);
  });

  it('gives up on a blocked revoke or renew at statement_timeout; the retry succeeds', async () => {
    const { adapter, config, request } = provider();
    const { handle } = await adapter.issue(request());
    const ctx = { config, handle, now: new Date() };
    const blocker = await connect(target.url);
    try {
      // An uncommitted change to the role's catalog row: ALTER ROLE waits for it.
      await blocker.query(`BEGIN; ALTER ROLE "${handle.role}" CONNECTION LIMIT 1`);
      await rejectsWith(adapter.revoke(ctx), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
      await rejectsWith(adapter.renew!({ ...ctx, ttlSeconds: 60 }), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await adapter.revoke(ctx);
    assert.equal((await adapter.verifyRevoked(ctx)).confirmed, true);
  });
});
