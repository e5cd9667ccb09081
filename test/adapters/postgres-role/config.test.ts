import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { parsePostgresRoleConfig, type ConfigSources } from '../../../adapters/postgres-role/config.js';

const URL_WITH_PASSWORD = 'postgres://admin:hunter2-admin@db.internal:6543/analytics';
const GRANTS = { 'tickets:read': ['reader'] };

const sources: ConfigSources = {
  env: { ANALYTICS_ADMIN_URL: URL_WITH_PASSWORD, EMPTY: '' },
  readFile(path: string): string {
    if (path === '/run/secrets/admin-url') return `${URL_WITH_PASSWORD}\n`;
    throw new Error('ENOENT');
  },
};

const parse = (raw: unknown) => parsePostgresRoleConfig(raw, sources);

function problemsOf(raw: unknown): readonly string[] {
  try {
    parse(raw);
  } catch (err) {
    const e = err as { code?: string; problems?: readonly string[] };
    assert.equal(e.code, 'BROKER_ADAPTER_BAD_CONFIG');
    return e.problems ?? [];
  }
  assert.fail('expected BROKER_ADAPTER_BAD_CONFIG');
}

describe('postgres-role configuration', () => {
  it('applies the defaults, taking the connection endpoint from the admin url', () => {
    const c = parse({ url: URL_WITH_PASSWORD, grants: GRANTS });
    assert.deepEqual(c.connection, {
      host: 'db.internal',
      port: 6543,
      database: 'analytics',
      sslmode: undefined,
    });
    assert.equal(c.rolePrefix, 'tp_');
    assert.deepEqual(c.cleanupDatabases, ['analytics']);
    assert.equal(c.reassignOwnedTo, undefined);
    assert.deepEqual(
      [c.statementTimeoutMs, c.connectTimeoutMs, c.poolSize, c.connectionLimit, c.maxTtlSeconds],
      [5000, 5000, 4, 5, 3600],
    );
    assert.deepEqual([...c.grants], [['tickets:read', ['reader']]]);
  });

  it('reads every field', () => {
    const c = parse({
      url: URL_WITH_PASSWORD,
      grants: { 'tickets:read': ['reader'], 'tickets:write': ['reader', 'Writer "x"'] },
      role_prefix: 'agent_',
      connection: { host: 'pgbouncer.internal', port: 6432, database: 'reports', sslmode: 'verify-full' },
      cleanup_databases: ['analytics', 'scratch'],
      reassign_owned_to: 'app_owner',
      statement_timeout_ms: 2000,
      connect_timeout_ms: 1500,
      pool_size: 2,
      connection_limit: 3,
      max_ttl: '30m',
    });
    assert.deepEqual(c.connection, {
      host: 'pgbouncer.internal',
      port: 6432,
      database: 'reports',
      sslmode: 'verify-full',
    });
    assert.deepEqual(c.cleanupDatabases, ['reports', 'analytics', 'scratch']);
    assert.deepEqual(c.grants.get('tickets:write'), ['reader', 'Writer "x"']);
    assert.deepEqual(
      [c.rolePrefix, c.reassignOwnedTo, c.statementTimeoutMs, c.connectTimeoutMs, c.poolSize],
      ['agent_', 'app_owner', 2000, 1500, 2],
    );
    assert.deepEqual([c.connectionLimit, c.maxTtlSeconds], [3, 1800]);
  });

  it('reads the admin url from an environment variable or a file', () => {
    for (const raw of [{ url_env: 'ANALYTICS_ADMIN_URL' }, { url_file: '/run/secrets/admin-url' }]) {
      assert.equal(parse({ ...raw, grants: GRANTS }).adminUrl.reveal(), URL_WITH_PASSWORD);
    }
  });

  it('never shows the admin url when the config is printed or serialized', () => {
    const c = parse({ url: URL_WITH_PASSWORD, grants: GRANTS });
    for (const text of [JSON.stringify(c), inspect(c, { depth: 5 }), `${c.adminUrl}`]) {
      assert.ok(!text.includes('hunter2'), text);
    }
  });

  const invalid: [string, unknown, number][] = [
    ['not an object', 'postgres', 1],
    ['empty', {}, 2],
    ['two url sources', { url: URL_WITH_PASSWORD, url_env: 'ANALYTICS_ADMIN_URL', grants: GRANTS }, 1],
    ['url of another scheme', { url: 'mysql://a@b/c', grants: GRANTS }, 1],
    ['url that is not a url', { url: 'db.internal', grants: GRANTS }, 1],
    ['url_env not set', { url_env: 'NOT_SET_ANYWHERE', grants: GRANTS }, 1],
    ['url_env set but empty', { url_env: 'EMPTY', grants: GRANTS }, 1],
    ['url_env not a variable name', { url_env: 'A-B', grants: GRANTS }, 1],
    ['url_file unreadable', { url_file: '/nope', grants: GRANTS }, 1],
    ['grants not an object', { url: URL_WITH_PASSWORD, grants: ['reader'] }, 1],
    ['grants empty', { url: URL_WITH_PASSWORD, grants: {} }, 1],
    ['grant key not a scope-token', { url: URL_WITH_PASSWORD, grants: { 'a b': ['r'] } }, 1],
    ['grant with no template', { url: URL_WITH_PASSWORD, grants: { a: [] } }, 1],
    ['grant template too long', { url: URL_WITH_PASSWORD, grants: { a: ['r'.repeat(64)] } }, 1],
    ['grant template repeated', { url: URL_WITH_PASSWORD, grants: { a: ['r', 'r'] } }, 1],
    [
      'grant of roles that give server file or program access',
      { url: URL_WITH_PASSWORD, grants: { a: ['pg_write_server_files', 'pg_execute_server_program'] } },
      2,
    ],
    ['role_prefix uppercase', { url: URL_WITH_PASSWORD, grants: GRANTS, role_prefix: 'TP_' }, 1],
    ['role_prefix reserved pg_', { url: URL_WITH_PASSWORD, grants: GRANTS, role_prefix: 'pg_x' }, 1],
    ['role_prefix too long', { url: URL_WITH_PASSWORD, grants: GRANTS, role_prefix: 'a'.repeat(31) }, 1],
    ['no database anywhere', { url: 'postgres://admin@db.internal', grants: GRANTS }, 1],
    ['no host anywhere', { url: 'postgres:///analytics', grants: GRANTS }, 1],
    [
      'every field wrong',
      {
        url: 'http://db.internal/analytics',
        grants: { 'a b': ['r'], ok: [] },
        role_prefix: 'PG',
        connection: { port: 0, sslmode: 'maybe', extra: 1 },
        cleanup_databases: 'db',
        reassign_owned_to: '',
        statement_timeout_ms: 5,
        connect_timeout_ms: 1.5,
        pool_size: 0,
        connection_limit: 'x',
        max_ttl: '30d',
        other: true,
      },
      15,
    ],
  ];
  for (const [name, raw, count] of invalid) {
    it(`lists every problem: ${name}`, () => {
      const problems = problemsOf(raw);
      assert.equal(problems.length, count, JSON.stringify(problems));
      assert.ok(!problems.join(' ').includes('hunter2'), 'a problem quotes the admin password');
    });
  }
});
