import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import type { BrokerConfig } from '../../config.js';
import { BrokerError } from '../../errors.js';
import type { SqlExecutor } from '../../store/sql-executor.js';
import type { CommandContext } from '../program.js';

interface MigrateFlags {
  config?: string;
  down?: string;
  downAll?: boolean;
}

/**
 * `taskpass migrate [--config FILE] [--down N | --down-all]`: applies every pending migration of
 * `migrations/` to the configured database (`DATABASE_URL`, else embedded PGlite in the data
 * directory), or rolls back the last N (or all). The broker also applies pending migrations at start.
 */
export function registerMigrateCommand(program: Command, ctx: CommandContext): void {
  program
    .command('migrate')
    .description('apply pending database migrations (or roll back with --down N / --down-all)')
    .option('--config <file>', 'YAML or JSON configuration file (default: $TASKPASS_CONFIG)')
    .option('--down <n>', 'roll back the last N applied migrations')
    .option('--down-all', 'roll back every applied migration (drops all broker data)')
    .action(async (flags: MigrateFlags) => {
      const steps = downSteps(flags);
      // Loaded on use: every `taskpass` invocation loads this module (CLI start-up time).
      const [{ loadConfig }, { createMigrator, loadMigrations }] = await Promise.all([
        import('../../config.js'),
        import('../../store/migrator.js'),
      ]);
      const config = await loadConfig({
        env: ctx.env,
        cwd: process.cwd(),
        ...(flags.config !== undefined && { configPath: flags.config }),
      });
      const db = await openDatabase(config);
      try {
        const migrator = createMigrator(db, await loadMigrations());
        const changed = steps === undefined ? await migrator.up() : await migrator.down(steps);
        const status = await migrator.status();
        ctx.result({
          database: config.database.kind,
          [steps === undefined ? 'applied' : 'rolled_back']: changed,
          current: status.applied.at(-1) ?? null,
          pending: status.pending,
        });
      } finally {
        await db.close();
      }
    });
}

/** `undefined` to migrate up; otherwise how many to roll back. */
function downSteps(flags: MigrateFlags): number | 'all' | undefined {
  if (flags.downAll && flags.down !== undefined) {
    throw new BrokerError('BROKER_CLI_USAGE', 'give --down N or --down-all, not both');
  }
  if (flags.downAll) return 'all';
  if (flags.down === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(flags.down))
    throw new BrokerError('BROKER_CLI_USAGE', '--down takes a positive integer');
  return Number(flags.down);
}

async function openDatabase(config: BrokerConfig): Promise<SqlExecutor> {
  if (config.database.kind === 'postgres') {
    const { createPgExecutor } = await import('../../store/pg-executor.js');
    return createPgExecutor({ url: config.database.url });
  }
  // The embedded database does not create its parent folders.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const { createPgliteExecutor } = await import('../../store/pglite-executor.js');
  return createPgliteExecutor({ dataDir: config.database.dataDir });
}
