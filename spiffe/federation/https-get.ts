import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { SpiffeError } from '../errors.js';

/** How long a bundle fetch may take in all, by default. */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;
/** The largest bundle document accepted by default; real bundles are a few kilobytes. */
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024;

/** Options of {@link httpsGet}. */
export interface HttpsGetOptions {
  readonly url: URL;
  /** Trust anchors (PEM). When set they replace Node's public root store. */
  readonly ca?: string | readonly string[];
  /** Replaces Node's hostname check; returns an error to reject the server. Never throws. */
  readonly checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

// OpenSSL verification results and Node's hostname check: the server did not prove who it is.
// Anything else (refused, reset, DNS, TLS protocol) is a transport failure.
const CERT_ERROR =
  /^(ERR_TLS_CERT_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_|HOSTNAME_MISMATCH)/;

function translate(err: unknown): SpiffeError {
  if (err instanceof SpiffeError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CERT_ERROR.test(code)) {
    return new SpiffeError('SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED', code, { cause: err });
  }
  return new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', typeof code === 'string' ? code : undefined, {
    cause: err,
  });
}

function readBody(res: IncomingMessage, maxBytes: number, fail: (err: SpiffeError) => void): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        fail(new SpiffeError('SPIFFE_BUNDLE_MALFORMED', `response is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * GETs `url` over TLS and returns the body of a 200 response.
 *
 * Redirects are not followed: a bundle endpoint is configured by exact URL (Trust Domain and Bundle
 * §5.1) and a redirect could lead to a server authenticated differently. Each call uses its own
 * connection (`agent: false`), so no pooled socket or resumed TLS session skips the server identity
 * check, which Node only runs on full handshakes.
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_ENDPOINT_UNAUTHENTICATED` when the server's certificate or
 * identity is rejected; `SPIFFE_BUNDLE_FETCH_FAILED` for connection failures, timeouts and non-200
 * statuses; `SPIFFE_BUNDLE_MALFORMED` for a body over `maxBytes`.
 */
export function httpsGet(opts: HttpsGetOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const req = request(opts.url, {
      method: 'GET',
      agent: false,
      headers: { accept: 'application/json' },
      rejectUnauthorized: true,
      ...(opts.ca === undefined ? {} : { ca: typeof opts.ca === 'string' ? opts.ca : [...opts.ca] }),
      ...(opts.checkServerIdentity === undefined ? {} : { checkServerIdentity: opts.checkServerIdentity }),
    });
    const finish = (err: SpiffeError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(body as Buffer);
    };
    const deadline = setTimeout(() => {
      finish(new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', `no response within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err) => finish(translate(err)));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', `http status ${res.statusCode}`));
        return;
      }
      res.on('error', (err) => finish(translate(err)));
      void readBody(res, opts.maxBytes, (err) => finish(err)).then((body) => finish(undefined, body));
    });
    req.end();
  });
}
