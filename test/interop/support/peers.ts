/**
 * Which interop peers (programs no one here wrote) this run can use, read once from the environment
 * that `.ci/run` / `scripts/install-peers.sh` set up:
 *
 * - `TASKPASS_SPIRE_BIN_DIR`: a directory holding `spire-server` and `spire-agent`;
 * - `TASKPASS_GO_SPIFFE_CLIENT`: the built `test/interop/go-spiffe-client` binary;
 * - `TASKPASS_INTEROP=1` or `CI=true`: the interop suites must run, so a missing peer is a failure.
 *
 * Without either switch a missing peer skips its suite with a printed reason, so that `npm test` on a
 * developer's machine without Go still passes.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** What a suite declares it needs. */
export type Peer = 'spire' | 'go-spiffe-client';

/** The resolved locations of the peers, when present. */
export interface Peers {
  readonly spireServer: string;
  readonly spireAgent: string;
  readonly goSpiffeClient: string;
}

/** True when interop is switched on: a missing peer then fails instead of skipping. */
export function interopRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['TASKPASS_INTEROP'] === '1' || env['CI'] === 'true';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `peer` is unusable in `env`, or undefined when it is there. */
export function peerProblem(peer: Peer, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (peer === 'spire') {
    const dir = env['TASKPASS_SPIRE_BIN_DIR'];
    if (!dir) return 'TASKPASS_SPIRE_BIN_DIR is not set (run scripts/install-peers.sh)';
    for (const bin of ['spire-server', 'spire-agent']) {
      if (!executable(join(dir, bin))) return `${join(dir, bin)} is missing or not executable`;
    }
    return undefined;
  }
  const client = env['TASKPASS_GO_SPIFFE_CLIENT'];
  if (!client) return 'TASKPASS_GO_SPIFFE_CLIENT is not set (run scripts/install-peers.sh)';
  if (!executable(client)) return `${client} is missing or not executable`;
  return undefined;
}

/**
 * Decides how a suite that needs `needed` runs. Returns `{ skip: reason }` when a peer is missing and
 * interop is optional (prints the reason), `{ skip: false }` when everything is there, and throws when
 * a peer is missing while interop is required (`CI=true` or `TASKPASS_INTEROP=1`): the throw happens at
 * module load, so the test file fails rather than quietly passing.
 */
export function requirePeers(
  suite: string,
  needed: readonly Peer[],
  env: NodeJS.ProcessEnv = process.env,
): { skip: string | false } {
  const problems = needed.flatMap((p) => {
    const problem = peerProblem(p, env);
    return problem ? [`${p}: ${problem}`] : [];
  });
  if (problems.length === 0) return { skip: false };
  const reason = problems.join('; ');
  if (interopRequired(env)) {
    throw new Error(`interop suite "${suite}" cannot run (interop is required here): ${reason}`);
  }
  console.log(`# skipping interop suite "${suite}": ${reason} (set TASKPASS_INTEROP=1 to make this fail)`);
  return { skip: reason };
}

/** The peer locations; call only after {@link requirePeers} returned `{ skip: false }`. */
export function peers(env: NodeJS.ProcessEnv = process.env): Peers {
  const dir = env['TASKPASS_SPIRE_BIN_DIR'] ?? '';
  return {
    spireServer: join(dir, 'spire-server'),
    spireAgent: join(dir, 'spire-agent'),
    goSpiffeClient: env['TASKPASS_GO_SPIFFE_CLIENT'] ?? '',
  };
}
