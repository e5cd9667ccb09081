import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createPostgresRoleAdapter,
  type PostgresRoleConfig,
  type PostgresRoleHandle,
} from '../../../adapters/postgres-role/index.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { connect, openTarget, rewriteUrl, targetSkip, type Target } from './support.js';

const WORKLOAD = SpiffeId.parse('spiffe://example.org/agent/report-writer');

// Revocation on the real server: sessions die, logins fail, owned objects find a new owner.
describe('postgres-role revocation on a real postgres server', { skip: targetSkip() }, () => {
  let target: Target;
  const adapter = createPostgresRoleAdapter();
  let config: PostgresRoleConfig;
  before(async () => {
    target = await openTarget();
    config = adapter.parseConfig(target.config());
  });
  after(async () => {
    await adapter.close();
    await target?.cleanup();
  });

  const issue = (scopes: string[], cfg = config) =>
    adapter.issue({
      config: cfg,
      taskId: 'task-revoke',
      workload: WORKLOAD,
      scopes,
      ttlSeconds: 600,
      now: new Date(),
    });
  const ctx = (handle: PostgresRoleHandle, cfg = config) => ({ config: cfg, handle, now: new Date() });
  const roleExists = async (role: string) =>
    (await target.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).length > 0;

  it('terminates an open session, refuses new logins, and verifyRevoked confirms it', async () => {
    const { secret, handle } = await issue(['tickets:read']);
    const session = await connect(secret);
    await session.query('SELECT count(*) FROM app.tickets');
    const before = await adapter.verifyRevoked(ctx(handle));
    assert.equal(before.confirmed, false, before.detail);

    await adapter.revoke(ctx(handle));

    await assert.rejects(session.query('SELECT count(*) FROM app.tickets'));
    // 28000 invalid_authorization_specification: the role does not exist any more.
    await assert.rejects(connect(secret), { code: '28000' });
    assert.equal(await roleExists(handle.role), false);
    const check = await adapter.verifyRevoked(ctx(handle));
    assert.equal(check.confirmed, true, check.detail);
    await session.end().catch(() => undefined);
  });

  it('terminates sessions in every database of the cluster, not just the target', async () => {
    const { secret, handle } = await issue(['tickets:read']);
    const elsewhere = await connect(rewriteUrl(secret, { database: target.otherDatabase }));
    await adapter.revoke(ctx(handle));
    await assert.rejects(elsewhere.query('SELECT 1'));
    assert.equal((await adapter.verifyRevoked(ctx(handle))).confirmed, true);
    await elsewhere.end().catch(() => undefined);
  });

  it('reassigns what the role created to the admin, or to reassign_owned_to', async () => {
    const cases: [string, PostgresRoleConfig, string][] = [
      ['agent_notes_admin', config, 'postgres'],
      [
        'agent_notes_owner',
        adapter.parseConfig(target.config({ reassign_owned_to: target.owner })),
        target.owner,
      ],
    ];
    for (const [table, cfg, expected] of cases) {
      const { secret, handle } = await issue(['schema:create'], cfg);
      const session = await connect(secret);
      await session.query(`CREATE TABLE app.${table} (note text)`);
      await session.query(`INSERT INTO app.${table} VALUES ('kept')`);
      await session.end();
      await adapter.revoke(ctx(handle, cfg));
      const [row] = await target.sql<{ tableowner: string }>(
        'SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = $2',
        ['app', table],
      );
      assert.equal(row?.tableowner, expected, table);
      assert.equal(await roleExists(handle.role), false);
    }
  });

  it('cleans up in every listed database; a role owning objects elsewhere is disabled, not dropped', async () => {
    const other = await target.extraDatabase();
    const { secret, handle } = await issue(['schema:create']);
    const session = await connect(rewriteUrl(secret, { database: other }));
    await session.query('CREATE TABLE app2.elsewhere (id int)');

    // Not listed: DROP ROLE fails with 2BP01, after login was disabled and the session ended.
    await assert.rejects(adapter.revoke(ctx(handle)), { code: 'BROKER_ADAPTER_BACKEND_REJECTED' });
    await assert.rejects(session.query('SELECT 1'));
    const [state] = await target.sql<{ rolcanlogin: boolean }>(
      'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
      [handle.role],
    );
    assert.equal(state?.rolcanlogin, false);
    await assert.rejects(connect(secret), { code: '28000' });
    assert.equal((await adapter.verifyRevoked(ctx(handle))).confirmed, false);

    // Listed: the retry reassigns there too and drops the role.
    const listed = adapter.parseConfig(target.config({ cleanup_databases: [other] }));
    await adapter.revoke(ctx(handle, listed));
    assert.equal((await adapter.verifyRevoked(ctx(handle, listed))).confirmed, true);
    const [row] = await target.sql<{ tableowner: string }>(
      "SELECT tableowner FROM pg_tables WHERE tablename = 'elsewhere'",
      [],
      other,
    );
    assert.equal(row?.tableowner, 'postgres');
  });

  it('is idempotent, also for a role that never existed', async () => {
    const { handle } = await issue(['tickets:read']);
    await adapter.revoke(ctx(handle));
    await adapter.revoke(ctx(handle));
    const never = { ...handle, role: `${target.prefix}never_abcdefghijkl`, roleOid: 4_000_000_000 };
    await adapter.revoke(ctx(never));
    assert.equal((await adapter.verifyRevoked(ctx(never))).confirmed, true);
  });

  it('refuses a handle naming a role it does not create, and leaves that role alone', async () => {
    const [{ oid }] = (await target.sql<{ oid: string }>(
      'SELECT oid::text FROM pg_roles WHERE rolname = $1',
      [target.reader],
    )) as [{ oid: string }];
    const foreign = [target.reader, 'postgres', 'tp_abcdefgh_abcdefghijkl'];
    for (const role of foreign) {
      const handle = {
        role,
        database: target.database,
        roleOid: Number(oid),
        expiresAt: new Date().toISOString(),
      };
      for (const call of [adapter.revoke(ctx(handle)), adapter.verifyRevoked(ctx(handle))]) {
        await assert.rejects(call, { code: 'BROKER_ADAPTER_BAD_HANDLE' });
      }
    }
    assert.equal(await roleExists(target.reader), true);
  });

  it('refuses to renew a revoked credential', async () => {
    const { handle } = await issue(['tickets:read']);
    await adapter.revoke(ctx(handle));
    await assert.rejects(adapter.renew!({ ...ctx(handle), ttlSeconds: 60 }), {
      code: 'BROKER_ADAPTER_BACKEND_REJECTED',
    });
  });
});
