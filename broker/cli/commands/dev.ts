import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { marshalBundle } from '../../../spiffe/bundle-json.js';
import { encodeCertificatesPem } from '../../../spiffe/pem.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { SpiffeBundle } from '../../../spiffe/bundle.js';
import {
  createBundleFeed,
  createRegistrations,
  createWorkloadApiServer,
  type RegistrationEntry,
} from '../../../spiffe/workload-api/index.js';
import { BrokerError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { openDevCa, withDevCaFlags, type DevCaFlags } from '../dev-defaults.js';
import { writeFileAtomic } from '../files.js';
import type { CommandContext } from '../program.js';
import { devWalkthrough } from './dev-walkthrough.js';

interface DevFlags extends DevCaFlags {
  socket?: string;
  workloadId?: string;
  uidEntry: string[];
  logLevel: string;
}

/** Unix socket paths longer than this do not fit `sockaddr_un.sun_path` on Linux. */
const MAX_SOCKET_PATH = 107;

/**
 * `taskpass dev`: the whole system on embedded defaults. Today: the development CA (keys in
 * `--data-dir`) and the standard SPIFFE Workload API on a Unix socket, until SIGINT/SIGTERM.
 */
export function registerDevCommand(program: Command, ctx: CommandContext): void {
  withDevCaFlags(program.command('dev'))
    .description('run the development CA and SPIFFE Workload API socket on embedded defaults')
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
    .action(async (flags: DevFlags) => {
      const dataDir = resolve(flags.dataDir);
      const socketPath = resolve(flags.socket ?? join(dataDir, 'workload.sock'));
      if (socketPath.length > MAX_SOCKET_PATH) {
        throw new BrokerError(
          'BROKER_CLI_USAGE',
          `socket path is too long for a Unix socket; pass a shorter --socket`,
        );
      }
      const ca = await openDevCa(flags, ctx.clock);
      const defaultId = SpiffeId.parse(flags.workloadId ?? `${ca.trustDomain.idString}/dev/workload`);
      const registrations = createRegistrations(
        { entries: flags.uidEntry.map((e) => parseUidEntry(e)), default: { spiffeId: defaultId } },
        ca.trustDomain,
      );
      const bundleFiles = await writeBundleFiles(dataDir, ca.bundle());
      const logger = createLogger({ level: flags.logLevel }).child({ component: 'dev' });
      const server = createWorkloadApiServer({
        socketPath,
        issuer: ca,
        registrations,
        clock: ctx.clock,
        bundles: createBundleFeed({ local: () => ca.bundle() }),
        logger,
      });
      await server.start();
      try {
        const cli = fileURLToPath(new URL('../main.js', import.meta.url));
        ctx.result({
          trust_domain: ca.trustDomain.name,
          workload_api: server.address,
          default_identity: defaultId.toString(),
          bundle: bundleFiles,
          data_dir: dataDir,
        });
        if (!ctx.json())
          ctx.io.stdout(
            devWalkthrough({
              cli,
              socket: server.address,
              trustDomain: ca.trustDomain,
              dataDir,
              bundleFiles,
            }),
          );
        logger.info({ socket: server.address }, 'development workload api ready');
        await ctx.stopSignal;
      } finally {
        await server.stop();
        logger.info({}, 'stopped');
      }
    });
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
  const files = { spiffe: join(dataDir, 'bundle.json'), pem: join(dataDir, 'bundle.pem') };
  await writeFileAtomic(files.spiffe, marshalBundle(bundle) + '\n', 0o644);
  await writeFileAtomic(files.pem, encodeCertificatesPem(bundle.x509Authorities), 0o644);
  return files;
}
