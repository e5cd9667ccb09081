import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { WorkloadApiLogger } from './logger.js';

/** The credentials of the process at the other end of a Unix socket, as the kernel recorded them. */
export interface PeerCredentials {
  /** PID of the process that called `connect(2)`. Informational: identity comes from uid/gid. */
  readonly pid: number;
  /** Effective UID of that process at `connect(2)` time. */
  readonly uid: number;
  /** Effective GID of that process at `connect(2)` time. */
  readonly gid: number;
}

/**
 * Learns who is calling on an accepted Workload API connection (SPIFFE Workload Endpoint spec §5
 * "Authentication": the endpoint identifies its caller out of band, not by anything the caller sends).
 */
export interface PeerCredentialsResolver {
  /**
   * The peer's credentials, or `undefined` when they cannot be learned (the caller then only gets the
   * configured default identity, if any). Never rejects.
   *
   * Must be called synchronously from the server's `connection` event, before the socket can be
   * closed: implementations may hand the socket's file descriptor to another process at call time.
   */
  resolve(socket: Socket): Promise<PeerCredentials | undefined>;
}

/** A program that prints `pid uid gid` of the peer of the Unix socket it inherits as fd 3. */
export interface PeerCredHelper {
  readonly command: string;
  readonly args: readonly string[];
}

/** Perl's core `Socket` module exports `SO_PEERCRED`; `perl-base` is Essential on Debian and Ubuntu. */
export const PERL_PEERCRED_HELPER: PeerCredHelper = Object.freeze({
  command: 'perl',
  args: Object.freeze([
    '-MSocket=SOL_SOCKET,SO_PEERCRED',
    '-e',
    'open(my $s, "+<&=", 3) or exit 2; my $c = getsockopt($s, SOL_SOCKET, SO_PEERCRED); ' +
      'defined $c or exit 3; print join(" ", unpack("lLL", $c)), "\\n";',
  ]),
});

/** Python 3's `socket` module, run isolated (`-I`: no environment variables, no user site). */
export const PYTHON_PEERCRED_HELPER: PeerCredHelper = Object.freeze({
  command: 'python3',
  args: Object.freeze([
    '-I',
    '-c',
    'import socket,struct\ns=socket.socket(fileno=3)\n' +
      "print(*struct.unpack('iII', s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)))",
  ]),
});

/** Options of {@link createSoPeerCredResolver}. */
export interface SoPeerCredResolverOptions {
  /** Tried in order; the first one that exists is used. Default: Perl, then Python 3. */
  helpers?: readonly PeerCredHelper[];
  /** How long a helper may take before the caller is treated as unattested. Default 5000 ms. */
  timeoutMs?: number;
  /** Default `process.platform`; `SO_PEERCRED` exists on Linux only. */
  platform?: NodeJS.Platform;
  logger?: WorkloadApiLogger;
}

const OUTPUT = /^(\d+) (\d+) (\d+)\n?$/;
/** The helper gets no inherited environment (no PERL5OPT, PYTHONPATH…), only a fixed search path. */
const HELPER_ENV = Object.freeze({ PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' });

/**
 * Caller attestation by `SO_PEERCRED` (unix(7)), the mechanism SPIRE's `unix` workload attestor relies
 * on, without a native addon.
 *
 * Node has no `getsockopt` API, and nothing in procfs maps a Unix socket to its peer (`/proc/net/unix`
 * lists inodes without peers; only NETLINK_SOCK_DIAG's `UNIX_DIAG_PEER` does, and Node cannot open
 * netlink sockets). So, at accept time, the accepted socket's file descriptor is inherited as fd 3 by a
 * short-lived helper process — Perl, or Python 3 — that calls `getsockopt(SOL_SOCKET, SO_PEERCRED)` on
 * it and prints `pid uid gid`. The helper never reads or writes the socket; the kernel answers with the
 * credentials it captured when the peer called `connect(2)`, so this is the same attestation SPIRE does
 * (and uid/gid cannot be spoofed by the caller or raced by PID reuse).
 *
 * Limits: Linux only (other platforms resolve to `undefined`); needs `perl` or `python3` on
 * `/usr/local/bin:/usr/bin:/bin`; costs one short process (≈10–20 ms) per accepted connection, which is
 * fine for the Workload API's few, long-lived connections. The credentials are those at `connect(2)`:
 * a process that connects and then changes user (or passes the socket on) keeps its original identity,
 * exactly as with SO_PEERCRED in SPIRE. When no helper exists the resolver yields `undefined`, logged.
 */
export function createSoPeerCredResolver(opts: SoPeerCredResolverOptions = {}): PeerCredentialsResolver {
  const helpers = opts.helpers ?? [PERL_PEERCRED_HELPER, PYTHON_PEERCRED_HELPER];
  const timeoutMs = opts.timeoutMs ?? 5000;
  const platform = opts.platform ?? process.platform;
  return {
    resolve(socket: Socket): Promise<PeerCredentials | undefined> {
      if (platform !== 'linux') return Promise.resolve(undefined);
      const fd = socketFd(socket);
      if (fd === undefined) return Promise.resolve(undefined);
      // Spawning is synchronous with respect to fd inheritance (the child has its copy of the
      // descriptor once spawn() returns), and a missing program is detected synchronously (no pid), so
      // every attempt happens before this function yields and fd 3 is always this very socket.
      for (const helper of helpers) {
        const child = spawnHelper(helper, fd);
        if (child.pid !== undefined) return collect(child, timeoutMs, opts.logger);
        child.on('error', () => undefined);
      }
      opts.logger?.warn({ helpers: helpers.map((h) => h.command) }, 'no so_peercred helper found');
      return Promise.resolve(undefined);
    },
  };
}

/** The descriptor behind a net.Socket (libuv's `fd` on Unix; `-1` or absent elsewhere). */
function socketFd(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function spawnHelper(helper: PeerCredHelper, fd: number): ChildProcess {
  return spawn(helper.command, [...helper.args], {
    stdio: ['ignore', 'pipe', 'ignore', fd],
    env: HELPER_ENV,
    windowsHide: true,
  });
}

function collect(
  child: ChildProcess,
  timeoutMs: number,
  logger?: WorkloadApiLogger,
): Promise<PeerCredentials | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      const match = OUTPUT.exec(out);
      if (code !== 0 || !match) {
        logger?.warn({ exit_code: code }, 'so_peercred helper failed');
        resolve(undefined);
        return;
      }
      resolve(Object.freeze({ pid: Number(match[1]), uid: Number(match[2]), gid: Number(match[3]) }));
    });
  });
}
