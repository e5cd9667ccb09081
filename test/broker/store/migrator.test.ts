import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMigrator,
  loadMigrations,
  migrationsDirectory,
  type Migration,
} from '../../../broker/store/migrator.js';
import type { SqlExecutor } from '../../../broker/store/sql-executor.js';
import { backends, type TestDb } from './support/backends.js';

const TABLES = [
  'credentials',
  'ledger_events',
  'policy_versions',
  'quarantines',
  'revocation_queue',
  'set_receipts',
  'task_token_keys',
  'tasks',
];

async function tables(db: SqlExecutor): Promise<string[]> {
  const res = await db.query<{ t: string }>(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY 1",
  );
  return res.rows.map((r) => r.t);
}

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'taskpass-migrations-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('migration files', () => {
  it('finds migrations/ by walking up to package.json from the compiled file', () => {
    const dir = migrationsDirectory();
    assert.ok(existsSync(join(dir, '..', 'package.json')));
    assert.ok(existsSync(dir));
  });

  it('pairs every up with a down, in version order', async () => {
    const all = await loadMigrations();
    assert.ok(all.length >= 6);
    assert.deepEqual(
      all.map((m) => m.version),
      all.map((m) => m.version).sort(),
    );
    for (const m of all) assert.ok(m.up.trim() && m.down.trim(), m.version);
  });

  const broken: { name: string; files: Record<string, string> }[] = [
    { name: 'an up without its down', files: { '20250101000000_a.up.sql': 'SELECT 1;' } },
    { name: 'a down without its up', files: { '20250101000000_a.down.sql': 'SELECT 1;' } },
    { name: 'a stray file name', files: { 'create-things.sql': 'SELECT 1;' } },
    {
      name: 'two migrations with one version',
      files: {
        '20250101000000_a.up.sql': '',
        '20250101000000_a.down.sql': '',
        '20250101000000_b.up.sql': '',
        '20250101000000_b.down.sql': '',
      },
    },
  ];
  for (const c of broken) {
    it(`rejects ${c.name}`, () =>
      withDir(c.files, async (dir) => {
        await assert.rejects(loadMigrations(dir), { code: 'BROKER_STORE_MIGRATION_FAILED' });
      }));
  }
});

for (const backend of backends()) {
  describe(`migrator on ${backend.name}`, { skip: backend.skip }, () => {
    let db: TestDb;
    let migrations: Migration[];
    before(async () => {
      db = await backend.open();
      migrations = await loadMigrations();
    });
    after(() => db?.cleanup());

    it('migrates up, all the way down, and up again', async () => {
      const m = createMigrator(db.executor, migrations);
      assert.deepEqual(
        await m.up(),
        migrations.map((x) => x.version),
      );
      assert.deepEqual(await tables(db.executor), TABLES);
      assert.deepEqual(await m.up(), [], 'a second up is a no-op');
      assert.deepEqual((await m.status()).pending, []);

      assert.deepEqual(await m.down(1), [migrations.at(-1)!.version]);
      assert.deepEqual((await m.status()).pending, [migrations.at(-1)!.version]);
      assert.equal((await m.down('all')).length, migrations.length - 1);
      assert.deepEqual(await tables(db.executor), []);
      assert.deepEqual((await m.status()).applied, []);

      assert.equal((await m.up()).length, migrations.length);
      assert.deepEqual(await tables(db.executor), TABLES);
    });

    it('rolls back a failing migration alone and reports it', () =>
      withDir(
        {
          '20990101000000_good.up.sql': 'CREATE TABLE zz_good (a int);',
          '20990101000000_good.down.sql': 'DROP TABLE zz_good;',
          '20990101000001_bad.up.sql': 'CREATE TABLE zz_bad (a int); SELECT nope FROM nowhere;',
          '20990101000001_bad.down.sql': 'DROP TABLE zz_bad;',
        },
        async (dir) => {
          const m = createMigrator(db.executor, [...migrations, ...(await loadMigrations(dir))]);
          await assert.rejects(m.up(), { code: 'BROKER_STORE_MIGRATION_FAILED' });
          const status = await m.status();
          assert.deepEqual(status.pending, ['20990101000001']);
          assert.ok((await tables(db.executor)).includes('zz_good'));
          assert.ok(!(await tables(db.executor)).includes('zz_bad'), 'the failed step left nothing');
          // A build that does not know 20990101000000 reports it as unknown and refuses to roll it back.
          const older = createMigrator(db.executor, migrations);
          assert.deepEqual((await older.status()).unknown, ['20990101000000']);
          await assert.rejects(older.down(1), { code: 'BROKER_STORE_MIGRATION_FAILED' });
          await createMigrator(db.executor, [...migrations, ...(await loadMigrations(dir))]).down(1);
        },
      ));

    if (backend.name === 'postgres') {
      it('serializes concurrent migrators so each step is applied once', async () => {
        const m = createMigrator(db.executor, migrations);
        await m.down('all');
        const replicas = [db.executor, db.replica!(), db.replica!()];
        const runs = await Promise.all(replicas.map((r) => createMigrator(r, migrations).up()));
        assert.deepEqual(
          runs.flat().sort(),
          migrations.map((x) => x.version),
        );
        assert.deepEqual(await tables(db.executor), TABLES);
      });
    }
  });
}
