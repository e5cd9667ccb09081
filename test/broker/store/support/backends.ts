/**
 * The two engines every store suite runs on: PGlite in memory, and a real PostgreSQL server when
 * `TASKPASS_TEST_DATABASE_URL` is set. Under `CI=true` a missing URL fails the postgres variant
 * (its `open()` throws) instead of skipping it; on a developer's machine it skips with a printed
 * reason. Every postgres run gets its own fresh schema, dropped afterwards, so suites run
 * concurrently against one server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, createMigrator } from '../../../../broker/store/migrator.js';
import { createPgExecutor } from '../../../../broker/store/pg-executor.js';
import { createPgliteExecutor } from '../../../../broker/store/pglite-executor.js';
import type { SqlExecutor } from '../../../../broker/store/sql-executor.js';

/** An open test database. */
export interface TestDb {
  readonly executor: SqlExecutor;
  /** Another pool on the same schema (postgres only): a second broker replica. */
  readonly replica?: () => SqlExecutor;
  /** Closes every executor it made and drops the schema. */
  cleanup(): Promise<void>;
}

/** One engine a suite runs on. */
export interface Backend {
  readonly name: 'pglite' | 'postgres';
  /** `false`, or why the suite is skipped (pass to `describe(name, { skip })`). */
  readonly skip: string | false;
  open(): Promise<TestDb>;
}

async function openPostgres(url: string): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const made: SqlExecutor[] = [];
  const make = () => {
    const e = createPgExecutor({ url, schema, max: 5 });
    made.push(e);
    return e;
  };
  return {
    executor: make(),
    replica: make,
    async cleanup() {
      await Promise.all(made.map((e) => e.close()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

const PGLITE: Backend = {
  name: 'pglite',
  skip: false,
  async open() {
    const executor = await createPgliteExecutor();
    return { executor, cleanup: () => executor.close() };
  },
};

/** The backends of this run, postgres decided from `env` (see the file comment). */
export function backends(env: NodeJS.ProcessEnv = process.env): Backend[] {
  const url = env['TASKPASS_TEST_DATABASE_URL'];
  if (url) return [PGLITE, { name: 'postgres', skip: false, open: () => openPostgres(url) }];
  const reason = 'TASKPASS_TEST_DATABASE_URL is not set';
  if (env['CI'] === 'true') {
    const fail = () => Promise.reject(new Error(`${reason} (CI=true: the postgres variant must run)`));
    return [PGLITE, { name: 'postgres', skip: false, open: fail }];
  }
  console.log(`# skipping the postgres variant of the store suites: ${reason}`);
  return [PGLITE, { name: 'postgres', skip: reason, open: () => Promise.reject(new Error(reason)) }];
}

/** Opens `backend` and applies every migration. */
export async function openMigrated(backend: Backend): Promise<TestDb> {
  const db = await backend.open();
  try {
    await createMigrator(db.executor, await loadMigrations()).up();
  } catch (err) {
    await db.cleanup();
    throw err;
  }
  return db;
}
