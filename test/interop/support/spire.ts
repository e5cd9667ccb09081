/**
 * Starts a real SPIRE deployment for the interop suites: one `spire-server` and one `spire-agent`, built
 * from SPIRE's own Go module by `scripts/install-peers.sh`, on loopback and Unix sockets in a fresh temp
 * dir, with the agent attested by a join token and the current process registered as a workload by its
 * Unix uid (SPIRE's `unix` workload attestor, SO_PEERCRED).
 *
 * Every wait is bounded; `stop()` kills both process groups and removes the temp dir.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const execFileP = promisify(execFile);

/** Where the SPIRE binaries are. */
export interface SpireBinaries {
  readonly spireServer: string;
  readonly spireAgent: string;
}

/** Options of {@link startSpire}. */
export interface StartSpireOptions {
  readonly trustDomain?: string;
  /** Path of the workload's SPIFFE ID registered for this process's uid. */
  readonly workloadPath?: string;
  /** Upper bound for the whole start-up (server, token, entry, agent, first SVID). */
  readonly timeoutMs?: number;
}

/** A running SPIRE server + agent pair. */
export interface SpireDeployment {
  readonly trustDomain: string;
  /** The SPIFFE ID that the entry gives to this process (`spiffe://<td><workloadPath>`). */
  readonly workloadId: string;
  /** The SPIFFE ID the agent runs under (the join token's alias). */
  readonly agentId: string;
  /** The agent's Workload API socket path, and the same as a `unix://` address. */
  readonly agentSocketPath: string;
  readonly agentAddress: string;
  /** The server's API socket (for `spire-server` CLI calls). */
  readonly serverSocketPath: string;
  /** Runs `spire-server <args…> -socketPath <server socket>` and returns its stdout. */
  serverCli(...args: string[]): Promise<string>;
  /** The last lines of both logs, for assertion messages. */
  logs(): string;
  /** Kills the agent and server (process groups) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const CLI_TIMEOUT_MS = 20_000;

/** Asks the kernel for a free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function serverConf(dir: string, td: string, port: number): string {
  return `server {
  bind_address = "127.0.0.1"
  bind_port = "${port}"
  socket_path = "${dir}/server.sock"
  trust_domain = "${td}"
  data_dir = "${dir}/server-data"
  log_level = "INFO"
  default_x509_svid_ttl = "1h"
  default_jwt_svid_ttl = "5m"
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "${dir}/server-data/datastore.sqlite3"
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
}
`;
}

function agentConf(dir: string, td: string, port: number): string {
  return `agent {
  data_dir = "${dir}/agent-data"
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "${port}"
  socket_path = "${dir}/agent/api.sock"
  trust_bundle_path = "${dir}/bundle.pem"
  trust_domain = "${td}"
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`;
}

/** Spawns a long-running process in its own process group, logging to `logPath`. */
function spawnLogged(cmd: string, args: string[], logPath: string): ChildProcess {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // A spawn failure (ENOENT…) must not crash the test process; the readiness probe reports it.
  child.on('error', (err) => log.write(`spawn error: ${err.message}\n`));
  return child;
}

/** Throws when `child` is gone: it failed to spawn or already exited. */
function assertRunning(name: string, child: ChildProcess | undefined): void {
  if (!child || child.pid === undefined) throw new Error(`${name} could not be started`);
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`${name} exited (${child.exitCode ?? child.signalCode})`);
  }
}

async function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(5_000, false, { ref: false })]);
  if (!graceful) {
    signal('SIGKILL');
    await Promise.race([exited, sleep(2_000, undefined, { ref: false })]);
  }
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it resolves true, failing with `what` after `deadline` (epoch ms). `alive` runs
 * before each attempt and ends the wait at once by throwing (the process being waited for died).
 */
async function waitFor(
  what: string,
  deadline: number,
  alive: () => void,
  probe: () => Promise<boolean>,
): Promise<void> {
  let last: unknown;
  while (Date.now() < deadline) {
    alive();
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * Starts SPIRE server and agent and waits until the agent serves this process an X509-SVID.
 * Throws (after tearing down whatever started) when any step fails or the time limit passes.
 */
export async function startSpire(
  bins: SpireBinaries,
  options: StartSpireOptions = {},
): Promise<SpireDeployment> {
  const td = options.trustDomain ?? 'interop.test';
  const workloadId = `spiffe://${td}${options.workloadPath ?? '/workload'}`;
  const agentId = `spiffe://${td}/interop-agent`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // Short: Unix socket paths must fit in sun_path (108 bytes).
  const dir = await mkdtemp('/tmp/tp-spire-');
  const serverSocketPath = join(dir, 'server.sock');
  const agentSocketPath = join(dir, 'agent', 'api.sock');
  const serverLog = join(dir, 'server.log');
  const agentLog = join(dir, 'agent.log');
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let stopped = false;

  const serverCli = async (...args: string[]): Promise<string> => {
    const { stdout } = await execFileP(bins.spireServer, [...args, '-socketPath', serverSocketPath], {
      timeout: CLI_TIMEOUT_MS,
    });
    return stdout;
  };
  const agentCli = async (...args: string[]): Promise<string> => {
    const { stdout } = await execFileP(bins.spireAgent, [...args, '-socketPath', agentSocketPath], {
      timeout: CLI_TIMEOUT_MS,
    });
    return stdout;
  };
  const logs = (): string =>
    `--- spire-server log ---\n${tail(serverLog)}\n--- spire-agent log ---\n${tail(agentLog)}`;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await killGroup(agent);
    await killGroup(server);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const port = await freePort();
    await mkdir(join(dir, 'server-data'));
    await mkdir(join(dir, 'agent-data'));
    await writeFile(join(dir, 'server.conf'), serverConf(dir, td, port));
    await writeFile(join(dir, 'agent.conf'), agentConf(dir, td, port));

    server = spawnLogged(bins.spireServer, ['run', '-config', join(dir, 'server.conf')], serverLog);
    const serverAlive = (): void => assertRunning('spire-server', server);
    await waitFor('spire-server healthcheck', deadline, serverAlive, async () => {
      await serverCli('healthcheck');
      return true;
    });

    // The entry exists before the agent starts, so the agent's first sync already carries it.
    const tokenOut = await serverCli('token', 'generate', '-spiffeID', agentId, '-ttl', '600');
    const token = /Token:\s*(\S+)/.exec(tokenOut)?.[1];
    if (!token) throw new Error(`unexpected output of spire-server token generate: ${tokenOut}`);
    const uid = process.getuid?.() ?? 0;
    await serverCli(
      'entry',
      'create',
      '-parentID',
      agentId,
      '-spiffeID',
      workloadId,
      '-selector',
      `unix:uid:${uid}`,
      '-x509SVIDTTL',
      '3600',
      '-jwtSVIDTTL',
      '300',
    );
    // The agent bootstraps trust from the server's bundle rather than insecure_bootstrap.
    await writeFile(join(dir, 'bundle.pem'), await serverCli('bundle', 'show'));

    agent = spawnLogged(
      bins.spireAgent,
      ['run', '-config', join(dir, 'agent.conf'), '-joinToken', token],
      agentLog,
    );
    const agentAlive = (): void => assertRunning('spire-agent', agent);
    await waitFor('the spire-agent to serve this workload an X509-SVID', deadline, agentAlive, async () => {
      const out = await agentCli('api', 'fetch', 'x509', '-timeout', '2s');
      return out.includes(workloadId);
    });
  } catch (err) {
    const detail = logs();
    await stop();
    throw new Error(`could not start SPIRE: ${err instanceof Error ? err.message : String(err)}\n${detail}`, {
      cause: err,
    });
  }

  return {
    trustDomain: td,
    workloadId,
    agentId,
    agentSocketPath,
    agentAddress: `unix://${agentSocketPath}`,
    serverSocketPath,
    serverCli,
    logs,
    stop,
  };
}
