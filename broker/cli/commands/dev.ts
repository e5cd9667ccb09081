import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { SpiffeBundle } from '../../../spiffe/bundle.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { RegistrationEntry } from '../../../spiffe/workload-api/index.js';
import type { BrokerConfig } from '../../config.js';
import { BrokerError } from '../../errors.js';
import { withDevCaFlags, type DevCaFlags } from '../dev-defaults.js';
import { writeCliFile } from '../files.js';
import type { CommandContext } from '../program.js';
import { devWalkthrough } from './dev-walkthrough.js';

interface DevFlags extends DevCaFlags {
  socket?: string;
  workloadId?: string;
  uidEntry: string[];
  logLevel: string;
  port: string;
  policy?: string;
}

/** Unix socket paths longer than this do not fit `sockaddr_un.sun_path` on Linux. */
const MAX_SOCKET_PATH = 107;
/** `taskpass dev` serves HTTP on loopback only: plain HTTP is acceptable there and nowhere else. */
const DEV_HOST = '127.0.0.1';
/** The default `--port`. */
export const DEV_HTTP_PORT = 8080;

/**
 * `taskpass dev`: the whole system on embedded defaults (DESIGN.md "CLI"): the broker's HTTP API on
 * `127.0.0.1:--port` (plain HTTP, loopback only), embedded PGlite in `--data-dir`, the development CA
 * and the standard SPIFFE Workload API on a Unix socket, until SIGINT/SIGTERM; SIGHUP reloads the
 * policy. Prints where everything listens and a walk-through of a task from start to revocation.
 */
export function registerDevCommand(program: Command, ctx: CommandContext): void {
  withDevCaFlags(program.command('dev'))
    .description('run the broker, development CA and SPIFFE Workload API socket on embedded defaults')
    .option('--port <port>', `broker HTTP port on ${DEV_HOST} (0: any free port)`, String(DEV_HTTP_PORT))
    .option('--policy <file>', 'policy file (default: $TASKPASS_POLICY_FILE or examples/policy.yaml)')
    .option('--socket <path>', 'Workload API socket (default: <data-dir>/workload.sock)')
    .option(
      '--workload-id <spiffe-id>',
      'identity given to any local caller (default: spiffe://<td>/dev/workload)',
    )
    .option(
      '--uid-entry <uid=spiffe-id...>',
      'give callers with this Unix uid this identity (repeatable)',
      [],
    )
    .option('--log-level <level>', 'log level (logs go to stderr)', 'info')
    .action((flags: DevFlags) => runDev(flags, ctx));
}

async function runDev(flags: DevFlags, ctx: CommandContext): Promise<void> {
  const dataDir = resolve(flags.dataDir);
  const socketPath = resolve(flags.socket ?? join(dataDir, 'workload.sock'));
  if (socketPath.length > MAX_SOCKET_PATH) {
    throw new BrokerError(
      'BROKER_CLI_USAGE',
      `socket path is too long for a Unix socket; pass a shorter --socket`,
    );
  }
  // The broker is loaded here rather than at the top of the module: every `taskpass` invocation
  // loads every command module, and `taskpass id parse` should not pay for fastify, PGlite and gRPC.
  const [{ startBroker }, { createLogger }, { createRegistrations }] = await Promise.all([
    import('../../server.js'),
    import('../../log.js'),
    import('../../../spiffe/workload-api/index.js'),
  ]);
  const config = await devConfig(flags, ctx, dataDir);
  const defaultId = SpiffeId.parse(flags.workloadId ?? `${config.trustDomain.idString}/dev/workload`);
  const registrations = createRegistrations(
    { entries: flags.uidEntry.map((e) => parseUidEntry(e)), default: { spiffeId: defaultId } },
    config.trustDomain,
  );
  const logger = createLogger({ level: flags.logLevel });
  const broker = await startBroker(config, {
    clock: ctx.clock,
    logger,
    workloadApi: { socketPath, registrations },
    ...(ctx.reloadSignal && { onReloadSignal: ctx.reloadSignal }),
  });
  try {
    const bundleFiles = await writeBundleFiles(dataDir, broker.app.devCa!.bundle());
    ctx.result({
      http: broker.httpUrl,
      trust_domain: config.trustDomain.name,
      audience: config.audience,
      workload_api: broker.workloadApi,
      grpc: broker.grpcSocket,
      ...(broker.grpcUrl !== undefined && { grpc_tcp: broker.grpcUrl }),
      default_identity: defaultId.toString(),
      policy: config.policyFile,
      bundle: bundleFiles,
      data_dir: dataDir,
    });
    if (!ctx.json()) {
      const cli = fileURLToPath(new URL('../main.js', import.meta.url));
      ctx.io.stdout(
        devWalkthrough({
          cli,
          broker: broker.httpUrl,
          config,
          identity: defaultId,
          socket: broker.workloadApi!,
        }),
      );
    }
    await ctx.stopSignal;
  } finally {
    await broker.stop();
    logger.info({}, 'stopped');
  }
}

/**
 * The broker configuration of `taskpass dev`: the environment's settings (e.g. `DATABASE_URL`),
 * overridden by the flags, always on loopback and always with the development CA (no agent).
 */
async function devConfig(flags: DevFlags, ctx: CommandContext, dataDir: string): Promise<BrokerConfig> {
  const port = await resolvePort(flags.port);
  const policy = flags.policy ?? ctx.env['TASKPASS_POLICY_FILE'] ?? examplePolicy();
  const { loadConfig } = await import('../../config.js');
  return loadConfig({
    env: {
      ...ctx.env,
      TASKPASS_CONFIG: undefined,
      SPIFFE_ENDPOINT_SOCKET: undefined,
      TASKPASS_DATA_DIR: dataDir,
      TASKPASS_TRUST_DOMAIN: flags.trustDomain,
      TASKPASS_HTTP_HOST: DEV_HOST,
      TASKPASS_HTTP_PORT: String(port),
      ...(policy !== undefined && { TASKPASS_POLICY_FILE: policy }),
    },
    cwd: process.cwd(),
  });
}

/**
 * `--port` as a number; `0` picks a free port now, because the broker's issuer URL (the `iss` of its
 * task tokens) names the port and must be known before the broker starts.
 */
async function resolvePort(text: string): Promise<number> {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new BrokerError('BROKER_CLI_USAGE', '--port takes 0..65535');
  if (port !== 0) return port;
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, DEV_HOST, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/** The repository's `examples/policy.yaml` (found above this compiled file), if present. */
function examplePolicy(from: string = import.meta.dirname): string | undefined {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'examples', 'policy.yaml');
    if (existsSync(join(dir, 'package.json')) && existsSync(file)) return file;
  }
  return undefined;
}

function parseUidEntry(text: string): RegistrationEntry {
  const match = /^(\d+)=(.+)$/.exec(text);
  if (!match) throw new BrokerError('BROKER_CLI_USAGE', '--uid-entry takes UID=SPIFFE_ID');
  return { spiffeId: SpiffeId.parse(match[2]!), selectors: { uid: Number(match[1]) } };
}

/** Writes the public trust bundle where `svid verify --bundle` and other relying parties can read it. */
async function writeBundleFiles(
  dataDir: string,
  bundle: SpiffeBundle,
): Promise<{ spiffe: string; pem: string }> {
  const [{ marshalBundle }, { encodeCertificatesPem }] = await Promise.all([
    import('../../../spiffe/bundle-json.js'),
    import('../../../spiffe/pem.js'),
  ]);
  const files = { spiffe: join(dataDir, 'bundle.json'), pem: join(dataDir, 'bundle.pem') };
  await writeCliFile(files.spiffe, marshalBundle(bundle) + '\n', 0o644);
  await writeCliFile(files.pem, encodeCertificatesPem(bundle.x509Authorities), 0o644);
  return files;
}
