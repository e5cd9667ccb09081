import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import {
  connectionString,
  isOwnRoleName,
  newPassword,
  parsePostgresRoleHandle,
  roleName,
} from '../../../adapters/postgres-role/credential.js';
import { scramSha256Verifier } from '../../../adapters/postgres-role/scram.js';
import { createRoleSql, quoteIdent, quoteLiteral } from '../../../adapters/postgres-role/sql.js';
import { scramAuthenticates } from './scram-exchange.js';

// node-postgres' own connection-string parser, resolved from pg's location (it is pg's dependency).
const fromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
const parseConnectionString = (
  fromPg('pg-connection-string') as { parse(url: string): Record<string, unknown> }
).parse;

describe('postgres-role sql quoting', () => {
  const idents: [string, string][] = [
    ['tp_abc', '"tp_abc"'],
    ['Mixed Case', '"Mixed Case"'],
    ['a"; DROP ROLE postgres; --', '"a""; DROP ROLE postgres; --"'],
    ['""', '""""""'],
  ];
  for (const [name, quoted] of idents) {
    it(`quotes the identifier ${JSON.stringify(name)}`, () => assert.equal(quoteIdent(name), quoted));
  }
  const literals: [string, string][] = [
    ['plain', "'plain'"],
    ["it's", "'it''s'"],
    ["'); DROP ROLE x; --", "'''); DROP ROLE x; --'"],
    ['back\\slash', "E'back\\\\slash'"],
    ["both\\'", "E'both\\\\'''"],
  ];
  for (const [value, quoted] of literals) {
    it(`quotes the literal ${JSON.stringify(value)}`, () => assert.equal(quoteLiteral(value), quoted));
  }
  for (const bad of ['', 'a\0b']) {
    it(`refuses the identifier ${JSON.stringify(bad)} with a code`, () =>
      assert.throws(() => quoteIdent(bad), { code: 'BROKER_ADAPTER_BAD_REQUEST' }));
  }
  it('refuses a literal with a nul byte with a code', () =>
    assert.throws(() => quoteLiteral('a\0'), { code: 'BROKER_ADAPTER_BAD_REQUEST' }));

  it('creates a role with every privilege beyond login denied, its expiry in UTC', () => {
    const sql = createRoleSql('tp_x_aaaaaaaaaaaa', 'SCRAM-SHA-256$4096:c2FsdA==$a:b', new Date(0), 3);
    assert.equal(
      sql,
      `CREATE ROLE "tp_x_aaaaaaaaaaaa" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'` +
        ` VALID UNTIL '1970-01-01T00:00:00.000Z' INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE` +
        ' NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3',
    );
  });
});

describe('postgres-role credential parts', () => {
  it('names roles <prefix><task id part>_<12 random base32>, lowercase, within 63 bytes', () => {
    const cases: [string, string, RegExp][] = [
      ['tp_', '3f2a9c1e-0b7d-4c55-9e11-2a6b8d0c4f00', /^tp_3f2a9c1e_[a-z2-7]{12}$/],
      ['tp_', 'Task-Contract-1', /^tp_taskcont_[a-z2-7]{12}$/],
      ['tp_', '---', /^tp_task_[a-z2-7]{12}$/],
      ['a'.repeat(30), 'f'.repeat(64), /^a{30}f{8}_[a-z2-7]{12}$/],
    ];
    for (const [prefix, task, shape] of cases) {
      const name = roleName(prefix, task, Buffer.from('0123456789', 'utf8'));
      assert.match(name, shape);
      assert.ok(Buffer.byteLength(name) <= 63);
      assert.ok(isOwnRoleName(prefix, name));
    }
  });

  it('draws the random part from its entropy', () => {
    const a = roleName('tp_', 't', Buffer.alloc(8, 1));
    assert.equal(a, roleName('tp_', 't', Buffer.alloc(8, 1)));
    assert.notEqual(a, roleName('tp_', 't', Buffer.alloc(8, 2)));
  });

  it('recognises only its own role names', () => {
    for (const foreign of [
      'postgres',
      'tp_reader',
      'app_abcdefghijkl',
      'tp_x_ABCDEFGHIJKL',
      'tp_x_abcdefghijk1',
    ]) {
      assert.equal(isOwnRoleName('tp_', foreign), false, foreign);
    }
  });

  it('makes url-safe passwords of at least 32 characters, different each time', () => {
    const [a, b] = [newPassword(), newPassword()];
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
  });

  it('builds connection strings that node-postgres reads back as given', () => {
    const pw = 'ab+/=:@?#%';
    const cases: [Parameters<typeof connectionString>[0], string][] = [
      [
        { host: 'db.internal', port: 5432, database: 'analytics', sslmode: undefined },
        'postgres://tp_r:ab%2B%2F%3D%3A%40%3F%23%25@db.internal:5432/analytics',
      ],
      [
        { host: '::1', port: 6432, database: 'my db', sslmode: 'require' },
        'postgres://tp_r:ab%2B%2F%3D%3A%40%3F%23%25@[::1]:6432/my%20db?sslmode=require',
      ],
      [
        { host: '/var/run/postgresql', port: 5433, database: 'a', sslmode: undefined },
        'postgres://tp_r:ab%2B%2F%3D%3A%40%3F%23%25@/a?host=%2Fvar%2Frun%2Fpostgresql&port=5433',
      ],
    ];
    for (const [endpoint, expected] of cases) {
      const url = connectionString(endpoint, 'tp_r', pw);
      assert.equal(url, expected);
      const parsed = parseConnectionString(url);
      assert.deepEqual(
        [parsed.user, parsed.password, parsed.host, String(parsed.port), parsed.database],
        ['tp_r', pw, endpoint.host, String(endpoint.port), endpoint.database],
      );
    }
  });

  it('parses stored handles and refuses malformed ones with a code', () => {
    const good = {
      role: 'tp_x_abcdefghijkl',
      database: 'analytics',
      roleOid: 16384,
      expiresAt: '2025-01-01T00:00:00.000Z',
    };
    assert.deepEqual(parsePostgresRoleHandle(JSON.parse(JSON.stringify(good))), good);
    const bad = [
      { ...good, role: 'Tp_X' },
      { ...good, role: 'a"b' },
      { ...good, database: '' },
      { ...good, roleOid: 0 },
      { ...good, roleOid: 2 ** 32 },
      { ...good, roleOid: '16384' },
      { ...good, expiresAt: 'soon' },
      { role: good.role },
    ];
    for (const raw of bad)
      assert.throws(() => parsePostgresRoleHandle(raw), { code: 'BROKER_ADAPTER_BAD_HANDLE' });
  });
});

describe('postgres-role scram verifier', () => {
  it('has the stored form and authenticates the password in a scram exchange', async () => {
    const password = newPassword();
    const verifier = await scramSha256Verifier(password);
    assert.match(
      verifier,
      /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/,
    );
    assert.equal(await scramAuthenticates(verifier, password), true);
    assert.equal(await scramAuthenticates(verifier, newPassword()), false);
  });

  it('verifies the rfc 7677 §3 example exchange (user "user", password "pencil")', async () => {
    const verifier = await scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const [, , keys] = verifier.split('$');
    const [storedKey, serverKey] = (keys ?? '').split(':').map((k) => Buffer.from(k, 'base64'));
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const signature = createHmac('sha256', storedKey!).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey);
    const serverSignature = createHmac('sha256', serverKey!).update(authMessage).digest('base64');
    assert.equal(serverSignature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });
});
