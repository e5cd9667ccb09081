import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BrokerError } from '../errors.js';
import { translateStoreError } from './sql-errors.js';
import type { SqlExecutor, SqlQueryable } from './sql-executor.js';

/** One migration: `YYYYMMDDHHMMSS_short-description.up.sql` and its `.down.sql`. */
export interface Migration {
  /** The 14-digit timestamp; migrations apply in its order. */
  readonly version: string;
  /** The short description. */
  readonly name: string;
  readonly up: string;
  readonly down: string;
}

/** What {@link Migrator.status} reports. */
export interface MigrationStatus {
  /** Applied versions known to this build, oldest first. */
  readonly applied: readonly string[];
  /** Known versions not applied yet, oldest first. */
  readonly pending: readonly string[];
  /** Applied versions this build does not know (a newer build migrated this database). */
  readonly unknown: readonly string[];
}

/** Applies and rolls back the schema. */
export interface Migrator {
  /** Applies every pending migration in order, each in its own transaction; returns their versions. */
  up(): Promise<string[]>;
  /** Rolls back the last `steps` applied migrations (or all), newest first; returns their versions. */
  down(steps: number | 'all'): Promise<string[]>;
  status(): Promise<MigrationStatus>;
}

const FILE = /^(\d{14})_([a-z0-9][a-z0-9-]*)\.(up|down)\.sql$/;
// Advisory lock namespace ("tpmg"); the second key is the schema, so migrators of different schemas
// (concurrent test suites) do not wait on each other.
const LOCK_SQL = 'SELECT pg_advisory_xact_lock(1953524839, hashtext(current_schema()))';
const BOOTSTRAP = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;

/**
 * The repository's `migrations/` folder: walks up from `from` (this compiled file's folder, under
 * `dist/` or any other output directory) to the first folder holding `package.json`.
 *
 * @throws {BrokerError} `BROKER_STORE_MIGRATION_FAILED` when no such folder exists.
 */
export function migrationsDirectory(from: string = import.meta.dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'migrations');
  }
  throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', 'no package.json above the broker');
}

/**
 * Reads every migration in `dir`, sorted by version.
 *
 * @throws {BrokerError} `BROKER_STORE_MIGRATION_FAILED` for a stray `.sql` file name, a duplicate
 *   version, or an up without its down (or the reverse).
 */
export async function loadMigrations(dir: string = migrationsDirectory()): Promise<Migration[]> {
  const byVersion = new Map<string, { name: string; up?: string; down?: string }>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
    const m = FILE.exec(file);
    if (!m) throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', `bad migration file name ${file}`);
    const [, version, name, direction] = m as unknown as [string, string, string, 'up' | 'down'];
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name || entry[direction] !== undefined) {
      throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', `duplicate migration version ${version}`);
    }
    entry[direction] = await readFile(join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()].map(([version, e]) => {
    if (e.up === undefined || e.down === undefined) {
      throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', `migration ${version} lacks its up or down`);
    }
    return { version, name: e.name, up: e.up, down: e.down };
  });
}

async function appliedVersions(tx: SqlQueryable): Promise<string[]> {
  const res = await tx.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
  return res.rows.map((r) => r.version);
}

/** Applies or rolls back the one migration `pick` chooses, in a transaction under the lock. */
async function runStep(
  executor: SqlExecutor,
  pick: (applied: string[]) => Migration | undefined,
  dir: 'up' | 'down',
): Promise<string | undefined> {
  try {
    return await executor.transaction(async (tx) => {
      await tx.query(LOCK_SQL);
      await tx.exec(BOOTSTRAP);
      const m = pick(await appliedVersions(tx));
      if (!m) return undefined;
      await tx.exec(m[dir]);
      if (dir === 'up') {
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      } else {
        await tx.query('DELETE FROM schema_migrations WHERE version = $1', [m.version]);
      }
      return m.version;
    });
  } catch (err) {
    const e = translateStoreError(err);
    if (e.code !== 'BROKER_STORE_QUERY_FAILED') throw e;
    throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', `${dir} step failed`, { cause: err });
  }
}

/**
 * Creates a migrator over `executor` (pg or PGlite alike). Each step runs in its own transaction
 * that first takes a transaction-scoped advisory lock and re-reads `schema_migrations`, so
 * concurrent migrators (several replicas starting at once) serialize and never apply a step twice.
 * A failing step rolls back alone; earlier steps stay applied.
 */
export function createMigrator(executor: SqlExecutor, migrations: readonly Migration[]): Migrator {
  const known = new Map(migrations.map((m) => [m.version, m]));

  return {
    async up() {
      const done: string[] = [];
      for (;;) {
        const v = await runStep(
          executor,
          (applied) => migrations.find((m) => !applied.includes(m.version)),
          'up',
        );
        if (v === undefined) return done;
        done.push(v);
      }
    },
    async down(steps) {
      const done: string[] = [];
      while (steps === 'all' || done.length < steps) {
        const v = await runStep(
          executor,
          (applied) => {
            const last = applied.at(-1);
            if (last !== undefined && !known.has(last)) {
              throw new BrokerError('BROKER_STORE_MIGRATION_FAILED', `cannot roll back unknown ${last}`);
            }
            return last === undefined ? undefined : known.get(last);
          },
          'down',
        );
        if (v === undefined) break;
        done.push(v);
      }
      return done;
    },
    async status() {
      const applied = await executor.transaction(async (tx) => {
        await tx.query(LOCK_SQL);
        await tx.exec(BOOTSTRAP);
        return appliedVersions(tx);
      });
      return {
        applied: applied.filter((v) => known.has(v)),
        pending: migrations.map((m) => m.version).filter((v) => !applied.includes(v)),
        unknown: applied.filter((v) => !known.has(v)),
      };
    },
  };
}
