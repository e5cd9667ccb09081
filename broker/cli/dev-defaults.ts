import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { DevCa } from '../../spiffe/ca/index.js';
import type { Clock } from '../../spiffe/clock.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';

/** Where `taskpass dev` and `taskpass svid mint` keep the development CA and sockets by default. */
export const DEFAULT_DATA_DIR = './.taskpass';
/** The development trust domain. `.local` is reserved for local use, so it never collides with a real one. */
export const DEFAULT_TRUST_DOMAIN = 'taskpass.local';
/** The audience a caller's JWT-SVID must carry unless `TASKPASS_AUDIENCE` says otherwise (as in `config.ts`). */
export const DEFAULT_AUDIENCE = 'taskpass-broker';
/** Where the CLI's broker commands find the broker by default: `taskpass dev`'s HTTP API. */
export const DEFAULT_BROKER_URL = 'http://127.0.0.1:8080';

/** The options every development-CA command accepts. */
export interface DevCaFlags {
  dataDir: string;
  trustDomain: string;
}

/** Adds `--data-dir` and `--trust-domain` to a command. */
export function withDevCaFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'where the development CA keeps its keys', DEFAULT_DATA_DIR)
    .option('--trust-domain <name>', 'trust domain of the development CA', DEFAULT_TRUST_DOMAIN);
}

/**
 * Opens (or creates on first use) the development CA in `<data-dir>/ca`.
 *
 * @throws {SpiffeError} a `SPIFFE_ID_*` code for a bad trust domain, `SPIFFE_CA_KEY_STORE` for a
 * store that is unreadable or belongs to another trust domain.
 */
export async function openDevCa(flags: DevCaFlags, clock: Clock): Promise<DevCa> {
  // Loaded on use (X.509 and JOSE libraries): every `taskpass` invocation loads this module.
  const { createDevCa } = await import('../../spiffe/ca/index.js');
  return createDevCa({
    trustDomain: TrustDomain.parse(flags.trustDomain),
    clock,
    dataDir: resolve(flags.dataDir),
  });
}
