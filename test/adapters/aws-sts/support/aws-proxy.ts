/**
 * A recording proxy in front of moto for the `aws-sts` suites: it forwards every STS and IAM request
 * unchanged and records its form parameters (moto does not keep session tags or the source identity,
 * so the suites read what the SDK actually sent), and it can answer the next call of an action with an
 * AWS error in the query protocol's shape, or not at all (a hung backend).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One request that went through the proxy. */
export interface RecordedCall {
  readonly action: string;
  readonly params: URLSearchParams;
}

/** What the proxy does instead of forwarding. */
export type Fault = { readonly status: number; readonly code: string } | 'hang';

export interface AwsProxy {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Answers the next call of `action` with `fault` (queued: two calls fail twice). */
  failNext(action: string, fault: Fault): void;
  close(): Promise<void>;
}

function errorXml(code: string): string {
  return (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
    `<Code>${code}</Code><Message>injected by the test proxy</Message></Error>` +
    '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>'
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a proxy on a free loopback port that forwards to `target` (moto's endpoint). */
export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const to = new URL(target);
  const calls: RecordedCall[] = [];
  const faults: { action: string; fault: Fault }[] = [];
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    calls.push({ action, params });
    const index = faults.findIndex((f) => f.action === action);
    if (index >= 0) {
      const { fault } = faults.splice(index, 1)[0]!;
      if (fault === 'hang') return; // never answered; the socket is destroyed on close()
      res.writeHead(fault.status, { 'content-type': 'text/xml' }).end(errorXml(fault.code));
      return;
    }
    const upstream = request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end(body);
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    calls,
    failNext: (action, fault) => void faults.push({ action, fault }),
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
