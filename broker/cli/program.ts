import { Command, CommanderError } from 'commander';
import type { Clock } from '../../spiffe/clock.js';
import { BrokerError } from '../errors.js';
import { registerBundleCommands } from './commands/bundle.js';
import { registerBrokerCommands } from './commands/broker-commands.js';
import { registerDevCommand } from './commands/dev.js';
import { registerIdCommands } from './commands/id.js';
import { registerIntrospectCommand } from './commands/introspect.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSignalCommand } from './commands/signal.js';
import { registerSvidCommands } from './commands/svid.js';
import { AlreadyReported, type CliIo, toErrorPayload, writeError, writeResult } from './output.js';

/** What every command receives: the injected clock and environment, and a way to print its result. */
export interface CommandContext {
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly io: CliIo;
  /** Prints the command's result (JSON with `--json`). */
  result(record: Readonly<Record<string, unknown>>): void;
  /** True when `--json` was given. */
  json(): boolean;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  readonly stopSignal: Promise<void>;
  /** Subscribes to the reload request (SIGHUP) and returns the unsubscribe; absent in tests. */
  readonly reloadSignal?: (listener: () => void) => () => void;
}

/** Dependencies of {@link runCli}; `main.ts` passes the real process, tests pass fakes. */
export interface CliDeps {
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly io: CliIo;
  readonly stopSignal: Promise<void>;
  readonly reloadSignal?: (listener: () => void) => () => void;
}

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Runs the `taskpass` command line with `argv` (without the node and script entries) and returns the
 * exit status: 0 on success, non-zero with a coded error otherwise (DESIGN.md "CLI").
 */
export async function runCli(
  argv: readonly string[],
  deps: CliDeps,
  extra: readonly Register[] = [],
): Promise<number> {
  // `--json` is accepted anywhere on the line (before or after the subcommand), so it is taken out
  // here rather than declared on every command.
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const program = new Command('taskpass')
    .description('SPIFFE workload identity and just-in-time credentials for AI agents')
    .option('--json', 'print machine-readable JSON')
    .exitOverride()
    .configureOutput({ writeOut: deps.io.stdout, writeErr: deps.io.stderr });
  const ctx: CommandContext = {
    ...deps,
    json: () => json,
    result: (record) => writeResult(deps.io, ctx.json(), record),
  };
  for (const register of [
    registerDevCommand,
    registerServeCommand,
    registerMigrateCommand,
    registerIdCommands,
    registerSvidCommands,
    registerBundleCommands,
    registerPolicyCommands,
    registerBrokerCommands,
    registerSignalCommand,
    registerIntrospectCommand,
    ...extra,
  ])
    register(program, ctx);
  program.commands.forEach(function inherit(cmd: Command): void {
    cmd.exitOverride().configureOutput({ writeOut: deps.io.stdout, writeErr: deps.io.stderr });
    cmd.commands.forEach(inherit);
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful exits; anything else is a usage error already printed.
      if (err.exitCode === 0) return 0;
      const payload = toErrorPayload(
        new BrokerError('BROKER_CLI_USAGE', err.message.replace(/^error: /, '')),
      );
      if (ctx.json()) writeError(deps.io, true, payload.payload);
      return payload.exitCode;
    }
    if (err instanceof AlreadyReported) return err.exitCode;
    const { payload, exitCode } = toErrorPayload(err);
    writeError(deps.io, ctx.json(), payload);
    return exitCode;
  }
}
