/**
 * moto's server (AWS STS and IAM on loopback) for the `aws-sts` suites, found through the environment
 * that `.ci/run` / `scripts/install-peers.sh` set up:
 *
 * - `TASKPASS_MOTO_BIN`: the `moto_server` of the venv the script installs; else `moto_server` on PATH;
 * - `TASKPASS_INTEROP=1` or `CI=true`: the suites must run, so a missing moto is a failure.
 *
 * Without either switch a missing moto skips its suite with a printed reason (as
 * `test/interop/support/peers.ts` does for SPIRE).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { interopRequired } from '../../../interop/support/peers.js';

/** Where `moto_server` is, or why it is not. */
export function findMoto(env: NodeJS.ProcessEnv = process.env): { bin: string } | { problem: string } {
  const isExecutable = (path: string) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const configured = env['TASKPASS_MOTO_BIN'];
  if (configured) {
    return isExecutable(configured)
      ? { bin: configured }
      : { problem: `${configured} is missing or not executable` };
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, 'moto_server'))) return { bin: join(dir, 'moto_server') };
  }
  return {
    problem: 'TASKPASS_MOTO_BIN is not set and moto_server is not on PATH (run scripts/install-peers.sh)',
  };
}

/**
 * Decides how a suite that needs moto runs: `{ skip: false }` when it is there, `{ skip: reason }`
 * (printed) when it is not and interop is optional, and a throw at module load when it is required.
 */
export function requireMoto(suite: string, env: NodeJS.ProcessEnv = process.env): { skip: string | false } {
  const found = findMoto(env);
  if ('bin' in found) return { skip: false };
  if (interopRequired(env)) {
    throw new Error(`moto suite "${suite}" cannot run (interop is required here): ${found.problem}`);
  }
  console.log(
    `# skipping moto suite "${suite}": ${found.problem} (set TASKPASS_INTEROP=1 to make this fail)`,
  );
  return { skip: found.problem };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: give it to the adapter as `endpoint`. */
  readonly endpoint: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Switches IAM authorization on (`0`: from the next request) or off (`Infinity`). */
  setAuth(freeRequests: number): Promise<void>;
  /** moto's model dump (GET /moto-api/data.json), e.g. `sts.AssumedRole[]`. */
  data(): Promise<Record<string, Record<string, Record<string, unknown>[]>>>;
  stop(): Promise<void>;
}

async function waitReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${output()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`moto_server did not answer within 20s: ${output()}`);
}

/** Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it answers. */
export async function startMoto(env: NodeJS.ProcessEnv = process.env): Promise<MotoServer> {
  const found = findMoto(env);
  if (!('bin' in found)) throw new Error(found.problem);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(found.bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, PYTHONUNBUFFERED: '1' },
  });
  let log = '';
  const keep = (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitReady(endpoint, child, () => log);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const post = async (path: string, body: string) => {
    const res = await fetch(`${endpoint}${path}`, { method: 'POST', body });
    if (!res.ok) throw new Error(`moto ${path}: ${res.status}`);
  };
  return {
    endpoint,
    reset: () => post('/moto-api/reset', ''),
    setAuth: (n) => post('/moto-api/reset-auth', Number.isFinite(n) ? String(n) : 'inf'),
    data: async () => (await (await fetch(`${endpoint}/moto-api/data.json`)).json()) as never,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
