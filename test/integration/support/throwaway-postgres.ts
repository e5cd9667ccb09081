/**
 * A PostgreSQL server of one's own, for suites that must stop and restart the database (the ledger
 * outage suite) and for the issuance benchmark: never the shared CI server, which other suites use.
 *
 * The server is Debian's PostgreSQL (`/usr/lib/postgresql/<major>/bin`), initialised into a fresh
 * temporary directory and started with `pg_ctl` on 127.0.0.1 and a free port, with the durability a
 * production ledger has (`fsync=on`, `synchronous_commit=on`). As root it runs as the `postgres` user
 * (initdb refuses root), exactly as `.ci/run` starts the shared one.
 *
 * Availability follows `test/interop/support/peers.ts`: under `CI=true` or `TASKPASS_INTEROP=1` missing
 * binaries are a failure; otherwise the suite skips with a printed reason.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

/** A running (or stopped) throwaway server. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** The temporary directory holding the cluster (`data/`), its log and its socket. */
  readonly dir: string;
  /** Stops the server; `immediate` is a crash (no checkpoint), recovered from WAL on the next start. */
  stop(opts?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it (immediately) if running and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The newest `/usr/lib/postgresql/<major>/bin` holding `initdb` and `pg_ctl`, or undefined. */
export function findPostgresBin(root = ROOT): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync(root);
  } catch {
    return undefined;
  }
  return majors
    .filter((m) => /^\d+$/.test(m))
    .sort((a, b) => Number(b) - Number(a))
    .map((m) => join(root, m, 'bin'))
    .find((bin) => executable(join(bin, 'initdb')) && executable(join(bin, 'pg_ctl')));
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The uid/gid of the `postgres` account, or undefined when it does not exist. */
function postgresAccount(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Why a throwaway server cannot be started here, or undefined when it can. */
export function postgresProblem(): string | undefined {
  if (findPostgresBin() === undefined) {
    return `no PostgreSQL server binaries (initdb, pg_ctl) under ${ROOT}/*/bin (apt-get install postgresql)`;
  }
  if (isRoot() && postgresAccount() === undefined) return 'running as root but there is no postgres user';
  return undefined;
}

/**
 * Decides how a suite needing a throwaway server runs: `{ skip: false }` when it can start one,
 * `{ skip: reason }` (printed) when it cannot and the run is a developer's, and a throw at module load
 * under `CI=true` or `TASKPASS_INTEROP=1`, so the suite fails instead of quietly passing.
 */
export function requireThrowawayPostgres(
  suite: string,
  env: NodeJS.ProcessEnv = process.env,
): { skip: string | false } {
  const problem = postgresProblem();
  if (problem === undefined) return { skip: false };
  if (env['CI'] === 'true' || env['TASKPASS_INTEROP'] === '1') {
    throw new Error(`suite "${suite}" needs its own PostgreSQL server (required here): ${problem}`);
  }
  console.log(`# skipping "${suite}": ${problem} (set TASKPASS_INTEROP=1 to make this fail)`);
  return { skip: problem };
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a server binary, as the `postgres` user when we are root. */
function asPostgres(bin: string, args: readonly string[]): Promise<unknown> {
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, [...args]);
}

function asPostgresSync(bin: string, args: readonly string[]): void {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  execFileSync(cmd, argv, { stdio: 'ignore', timeout: 10_000 });
}

/**
 * Initialises and starts a throwaway server (see the file comment). Stop it with `destroy()`; a
 * process exit also stops it, so a crashed suite leaves no server behind.
 *
 * @throws {Error} when the binaries are missing or initdb / pg_ctl fail (with the server log).
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresProblem() ?? 'no postgres binaries');
  const dir = mkdtempSync(join(tmpdir(), 'taskpass-pg-'));
  const account = isRoot() ? postgresAccount() : undefined;
  if (account) chownSync(dir, account.uid, account.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const ctl = join(bin, 'pg_ctl');
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=on',
    '-c synchronous_commit=on',
    '-c max_connections=200',
  ].join(' ');
  let running = false;
  const start = async (): Promise<void> => {
    await asPostgres(ctl, [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      settings,
      'start',
    ]);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate'): Promise<void> => {
    await asPostgres(ctl, ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };
  // A server outlives its parent (pg_ctl daemonizes it): stop it on exit whatever happens.
  const onExit = (): void => {
    if (running) asPostgresSync(ctl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  process.on('exit', onExit);
  const initdb = join(bin, 'initdb');
  try {
    await asPostgres(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    await start();
  } catch (err) {
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop: (opts) => stop(opts?.mode ?? 'fast'),
    start,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (running) await stop('immediate').catch(() => undefined);
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
