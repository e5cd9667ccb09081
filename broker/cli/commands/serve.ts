import type { Command } from 'commander';
import type { CommandContext } from '../program.js';

interface ServeFlags {
  config?: string;
  logLevel: string;
}

/**
 * `taskpass serve [--config FILE]`: production mode (DESIGN.md "CLI"). The configuration comes from
 * `--config` (else `$TASKPASS_CONFIG`) and the environment, which wins over the file. With
 * `SPIFFE_ENDPOINT_SOCKET` set the broker takes its identity and trust bundles from the SPIRE agent
 * and serves HTTPS; without it, the development CA and plain HTTP. Runs until SIGINT/SIGTERM; SIGHUP
 * reloads the policy.
 */
export function registerServeCommand(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('run the broker from a configuration file and the environment (production mode)')
    .option('--config <file>', 'YAML or JSON configuration file (default: $TASKPASS_CONFIG)')
    .option('--log-level <level>', 'log level (logs go to stderr)', 'info')
    .action(async (flags: ServeFlags) => {
      // Loaded on use: every `taskpass` invocation loads this module (CLI start-up time).
      const [{ loadConfig }, { createLogger }, { startBroker }] = await Promise.all([
        import('../../config.js'),
        import('../../log.js'),
        import('../../server.js'),
      ]);
      const config = await loadConfig({
        env: ctx.env,
        cwd: process.cwd(),
        ...(flags.config !== undefined && { configPath: flags.config }),
      });
      const logger = createLogger({ level: flags.logLevel });
      const broker = await startBroker(config, {
        clock: ctx.clock,
        logger,
        ...(ctx.reloadSignal && { onReloadSignal: ctx.reloadSignal }),
      });
      try {
        ctx.result({
          http: broker.httpUrl,
          tls: broker.tls,
          identity: config.identity.mode,
          database: config.database.kind,
          policy: config.policyFile,
          audience: config.audience,
          issuer: config.issuer,
        });
        await ctx.stopSignal;
      } finally {
        await broker.stop();
        logger.info({}, 'stopped');
      }
    });
}
