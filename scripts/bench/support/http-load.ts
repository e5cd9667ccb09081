/**
 * A closed-loop HTTP load for the benchmarks: every workload sends one request at a time over a
 * keep-alive loopback connection, back to back, for a bounded time after a warm-up. Latency is per
 * request, measured by the client.
 */
import { Agent, request } from 'node:http';

/** One client workload: the path it posts to and the bearer token it presents. */
export interface Workload {
  readonly path: string;
  readonly bearer: string;
}

/** What {@link drive} runs. */
export interface LoadOptions {
  readonly port: number;
  readonly workloads: readonly Workload[];
  /** The JSON body every request posts. */
  readonly body: string;
  /** The status a successful request answers with; any other counts as an error. */
  readonly expect: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** A counter read at the start and end of the measured phase (e.g. database statements sent). */
  readonly counter?: () => number;
}

/** The figures of one measured phase. */
export interface LoadFigures {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Requests in the measured phase. */
  readonly count: number;
  /** CPU this process (client and server together) used during the phase, in cores. */
  readonly nodeCores: number;
  /** How much {@link LoadOptions.counter} grew during the phase (0 without one). */
  readonly counted: number;
}

/** POSTs `body` to `path` with `bearer`; resolves with the status code. */
function post(agent: Agent, port: number, w: Workload, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = {
      authorization: `Bearer ${w.bearer}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    const req = request({ agent, host: '127.0.0.1', port, path: w.path, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every workload posts back to back until `length` ms have passed; returns the error count. */
async function phase(agent: Agent, o: LoadOptions, length: number, samples?: number[]): Promise<number> {
  let errors = 0;
  const end = performance.now() + length;
  await Promise.all(
    o.workloads.map(async (w) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if ((await post(agent, o.port, w, o.body)) !== o.expect) errors++;
        samples?.push(performance.now() - t0);
      }
    }),
  );
  return errors;
}

/** Runs the warm-up, then the measured phase, and returns its figures. */
export async function drive(o: LoadOptions): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.workloads.length });
  try {
    await phase(agent, o, o.warmupMs);
    const samples: number[] = [];
    const counted0 = o.counter?.() ?? 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const errors = await phase(agent, o, o.measureMs, samples);
    const elapsed = performance.now() - start;
    const used = process.cpuUsage(cpu);
    samples.sort((a, b) => a - b);
    const pct = (p: number): number =>
      samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0;
    return {
      perSecond: samples.length / (elapsed / 1000),
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      errors,
      count: samples.length,
      nodeCores: (used.user + used.system) / 1000 / elapsed,
      counted: (o.counter?.() ?? 0) - counted0,
    };
  } finally {
    agent.destroy();
  }
}
