import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresRoleAdapter, type PostgresRoleConfig } from '../../../adapters/postgres-role/index.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { scramAuthenticates } from './scram-exchange.js';
import { connect, openTarget, rewriteUrl, targetSkip, type Target } from './support.js';

const WORKLOAD = SpiffeId.parse('spiffe://example.org/agent/ticket-triage');
const TASK = '7c1e2d3f-aaaa-4bbb-8ccc-123456789abc';

// What a credential can do on the real server: exactly what its template roles allow.
describe('postgres-role credentials on a real postgres server', { skip: targetSkip() }, () => {
  let target: Target;
  const adapter = createPostgresRoleAdapter();
  let config: PostgresRoleConfig;
  before(async () => {
    target = await openTarget();
    config = adapter.parseConfig(target.config({ connection_limit: 2 }));
  });
  after(async () => {
    await adapter.close();
    await target?.cleanup();
  });

  const issue = (scopes: string[], ttlSeconds = 600, now = new Date()) =>
    adapter.issue({ config, taskId: TASK, workload: WORKLOAD, scopes, ttlSeconds, now });

  async function sqlstate(url: string, statement: string): Promise<string | undefined> {
    const client = await connect(url);
    try {
      await client.query(statement);
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code;
    } finally {
      await client.end();
    }
  }

  it('connects as its own role and reads what the granted template allows', async () => {
    const { secret, handle } = await issue(['tickets:read']);
    const client = await connect(secret);
    try {
      const who = await client.query('SELECT current_user AS u, current_database() AS d');
      assert.deepEqual(who.rows[0], { u: handle.role, d: target.database });
      const rows = await client.query('SELECT title FROM app.tickets ORDER BY id');
      assert.deepEqual(
        rows.rows.map((r) => r.title),
        ['printer on fire', 'vpn down'],
      );
    } finally {
      await client.end();
    }
  });

  // 42501 insufficient_privilege for everything no template grants.
  const forbidden: [string, string][] = [
    ['read a table no template grants', 'SELECT * FROM app.payroll'],
    ['insert into a read-only table', "INSERT INTO app.tickets VALUES (3, 'x')"],
    ['update a read-only table', "UPDATE app.tickets SET title = 'x'"],
    ['delete from a read-only table', 'DELETE FROM app.tickets'],
    ['create a table in the schema', 'CREATE TABLE app.mine (id int)'],
    ['create a role', 'CREATE ROLE escalate'],
    ['create a database', 'CREATE DATABASE escalate'],
    ['raise its own connection limit', 'ALTER ROLE CURRENT_USER CONNECTION LIMIT 100'],
    ['become the superuser', 'SET ROLE postgres'],
    ['read a server file', "SELECT pg_read_file('/etc/hostname')"],
  ];
  for (const [name, statement] of forbidden) {
    it(`cannot ${name}`, async () => {
      const { secret } = await issue(['tickets:read']);
      assert.equal(await sqlstate(secret, statement), '42501');
    });
  }

  it('grants the union of the templates of every requested scope, and nothing else', async () => {
    const { secret, handle } = await issue(['tickets:write', 'crm:write']);
    assert.equal(await sqlstate(secret, "INSERT INTO app.tickets VALUES (10, 'from agent')"), undefined);
    assert.equal(await sqlstate(secret, 'SELECT * FROM app.payroll'), '42501');
    const members = await target.sql<{ rolname: string }>(
      `SELECT t.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
       JOIN pg_roles t ON t.oid = m.roleid WHERE r.rolname = $1 ORDER BY 1`,
      [handle.role],
    );
    assert.deepEqual(
      members.map((m) => m.rolname),
      [target.reader, target.writer].sort(),
    );
  });

  it('creates the role with login only, VALID UNTIL the credential expiry and its connection limit', async () => {
    const now = new Date();
    const { handle, expiresAt } = await issue(['tickets:read'], 900, now);
    assert.equal(expiresAt.getTime(), now.getTime() + 900_000);
    const [role] = await target.sql<Record<string, unknown>>(
      `SELECT oid::int8 AS oid, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication,
              rolbypassrls, rolconnlimit, rolvaliduntil, shobj_description(oid, 'pg_authid') AS comment
       FROM pg_roles WHERE rolname = $1`,
      [handle.role],
    );
    assert.ok(role);
    assert.equal(Number(role['oid']), handle.roleOid);
    const flags = ['rolcanlogin', 'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolreplication'];
    assert.deepEqual(
      [...flags, 'rolbypassrls'].map((f) => role[f]),
      [true, false, true, false, false, false, false],
    );
    assert.equal(role['rolconnlimit'], 2);
    assert.equal((role['rolvaliduntil'] as Date).getTime(), expiresAt.getTime());
    assert.equal(role['comment'], `taskpass: task ${TASK}, workload ${WORKLOAD.toString()}`);
  });

  it('stores only a scram verifier, which the password of the connection string authenticates', async () => {
    const { secret, handle } = await issue(['tickets:read']);
    const [row] = await target.sql<{ rolpassword: string }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [handle.role],
    );
    const password = decodeURIComponent(new URL(secret).password);
    assert.ok(password.length >= 32);
    assert.ok(!row!.rolpassword.includes(password));
    assert.equal(await scramAuthenticates(row!.rolpassword, password), true);
    assert.equal(await scramAuthenticates(row!.rolpassword, `${password}x`), false);
  });

  it('enforces the connection limit', async () => {
    const { secret } = await issue(['tickets:read']);
    const open = [await connect(secret), await connect(secret)];
    try {
      await assert.rejects(connect(secret), { code: '53300' });
    } finally {
      await Promise.all(open.map((c) => c.end()));
    }
  });

  it('renews by moving VALID UNTIL, bounded by the ttl and max_ttl', async () => {
    const now = new Date();
    const issued = await issue(['tickets:read'], 300, now);
    const later = new Date(now.getTime() + 120_000);
    const renewed = await adapter.renew!({ config, handle: issued.handle, now: later, ttlSeconds: 7200 });
    // max_ttl defaults to one hour: a two-hour request is shortened to it.
    assert.equal(renewed.expiresAt.getTime(), later.getTime() + 3600_000);
    assert.equal(renewed.handle.expiresAt, renewed.expiresAt.toISOString());
    const [row] = await target.sql<{ rolvaliduntil: Date }>(
      'SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1',
      [issued.handle.role],
    );
    assert.equal(row!.rolvaliduntil.getTime(), renewed.expiresAt.getTime());
  });

  it('works with an admin that is not a superuser (CREATEROLE with ADMIN OPTION on the templates)', async () => {
    const limited = createPostgresRoleAdapter();
    const url = rewriteUrl(target.url, { user: target.limitedAdmin });
    const cfg = limited.parseConfig(target.config({ url }));
    try {
      const req = {
        config: cfg,
        taskId: TASK,
        workload: WORKLOAD,
        scopes: ['schema:create'],
        ttlSeconds: 300,
      };
      const { secret, handle } = await limited.issue({ ...req, now: new Date() });
      const session = await connect(secret);
      await session.query('CREATE TABLE app.limited_admin_made (id int)');
      await limited.revoke({ config: cfg, handle, now: new Date() });
      await assert.rejects(session.query('SELECT 1'));
      const check = await limited.verifyRevoked({ config: cfg, handle, now: new Date() });
      assert.equal(check.confirmed, true, check.detail);
      const [owner] = await target.sql<{ owner: string }>(
        "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'limited_admin_made'",
      );
      assert.equal(owner?.owner, target.limitedAdmin);
    } finally {
      await limited.close();
    }
  });
});
