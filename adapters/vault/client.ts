import { BrokerError, type BrokerErrorCode } from '../../broker/errors.js';
import type { JsonObject } from '../credential-adapter.js';

/** HTTP methods the adapter uses (Vault maps GET to `read`, POST and PUT to `create`/`update`). */
export type VaultMethod = 'GET' | 'POST' | 'PUT';

/** One call to Vault's HTTP API (`/v1/<path>`). */
export interface VaultRequest {
  readonly method: VaultMethod;
  /** The API path without `/v1/`, e.g. `auth/token/create-orphan`. */
  readonly path: string;
  /** Sent as `X-Vault-Token`; absent for login calls. Never logged, never put in an error. */
  readonly token?: string;
  readonly body?: JsonObject;
  /** Asks Vault to wrap the answer (`X-Vault-Wrap-TTL`), in seconds. */
  readonly wrapTtlSeconds?: number;
}

/** A parsed 2xx answer: Vault's JSON object, or `undefined` for `204 No Content`. */
export type VaultAnswer = Readonly<Record<string, unknown>> | undefined;

/** Where and how to reach Vault. */
export interface VaultClientOptions {
  /** Base address, e.g. `https://vault.internal:8200` (no `/v1`). */
  readonly address: string;
  /** Sent as `X-Vault-Namespace` (Vault Enterprise, HCP Vault, OpenBao namespaces). */
  readonly namespace?: string;
  /** Per-request limit: connection, answer and body together. */
  readonly timeoutMs: number;
}

/**
 * A Vault call that failed, translated into the broker's codes where it enters (EXAMPLES.md
 * "Errors"): `BROKER_ADAPTER_BACKEND_UNAVAILABLE` for network failures, timeouts, 429 and 5xx;
 * `BROKER_ADAPTER_BACKEND_DENIED` for 403; `BROKER_ADAPTER_BACKEND_REJECTED` for other 4xx;
 * `BROKER_ADAPTER_BACKEND_MALFORMED` for a 2xx body that is not a JSON object. It keeps the HTTP
 * status and Vault's `errors` strings (scrubbed of anything token-shaped) so callers can tell
 * "invalid accessor" from a real failure.
 */
export class VaultRequestError extends BrokerError {
  /** The HTTP status, when Vault answered at all. */
  readonly status: number | undefined;
  /** Vault's `{"errors": [...]}`, each reduced to its message lines. */
  readonly vaultErrors: readonly string[];

  constructor(code: BrokerErrorCode, detail: string, status?: number, vaultErrors: readonly string[] = []) {
    super(code, detail);
    this.status = status;
    this.vaultErrors = Object.freeze([...vaultErrors]);
  }

  /** True when one of Vault's error strings contains `text` (case-insensitive). */
  says(text: string): boolean {
    const needle = text.toLowerCase();
    return this.vaultErrors.some((e) => e.toLowerCase().includes(needle));
  }
}

/** Vault and OpenBao token formats (`hvs.`, `hvb.`, `hvr.`, legacy `s.`/`b.`/`r.`) and long opaque runs. */
const TOKEN_SHAPED = /\b(?:hv[sbr]|[sbr])\.[A-Za-z0-9_-]{8,}|[A-Za-z0-9+/_-]{32,}/g;
const MAX_ERROR_TEXT = 200;

/**
 * Vault's error strings as plain messages: multierror text (`1 error occurred:\n\t* permission
 * denied\n\n`) reduced to its items, anything token-shaped replaced, and the length capped.
 */
export function vaultErrorMessages(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is string => typeof e === 'string')
    .flatMap((e) => {
      const items = [...e.matchAll(/^\s*\*\s*(.+)$/gm)].map((m) => m[1]!.trim());
      return items.length > 0 ? items : [e.trim()];
    })
    .filter((e) => e !== '')
    .map((e) => e.replace(TOKEN_SHAPED, '[redacted]').slice(0, MAX_ERROR_TEXT));
}

function codeForStatus(status: number): BrokerErrorCode {
  if (status === 403) return 'BROKER_ADAPTER_BACKEND_DENIED';
  if (status === 429 || status >= 500) return 'BROKER_ADAPTER_BACKEND_UNAVAILABLE';
  return 'BROKER_ADAPTER_BACKEND_REJECTED';
}

/** The network error's code (`ECONNREFUSED`, `ENOTFOUND`…) from undici's `fetch failed` chain. */
function networkCode(err: unknown): string {
  let cur: unknown = err;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'network error';
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/**
 * A small typed client for Vault's HTTP API on `fetch` (DESIGN.md "Dependencies": there is no
 * official Vault client on the npm registry). Every request carries `X-Vault-Request: true`, the
 * namespace header when configured, and a deadline through `AbortSignal.timeout`, so no call hangs.
 * It is the only file of the adapter that performs I/O towards Vault.
 */
export class VaultClient {
  readonly #base: string;
  readonly #namespace: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: VaultClientOptions) {
    this.#base = opts.address.replace(/\/+$/, '');
    this.#namespace = opts.namespace;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** The address this client talks to (for error details and docs; holds no secret). */
  get address(): string {
    return this.#base;
  }

  /**
   * Performs one call.
   *
   * @throws {VaultRequestError} as the class describes; the detail names the method, path and status
   *   and Vault's messages, never a token or a request body.
   */
  async request(req: VaultRequest): Promise<VaultAnswer> {
    const where = `vault ${req.method} ${req.path}`;
    const headers: Record<string, string> = { 'X-Vault-Request': 'true', accept: 'application/json' };
    if (req.token !== undefined) headers['X-Vault-Token'] = req.token;
    if (this.#namespace !== undefined) headers['X-Vault-Namespace'] = this.#namespace;
    if (req.wrapTtlSeconds !== undefined) headers['X-Vault-Wrap-TTL'] = `${req.wrapTtlSeconds}s`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${this.#base}/v1/${req.path}`, {
        method: req.method,
        headers,
        ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
        signal,
        // A standby without request forwarding redirects to the active node: the broker's token is
        // never re-sent to a Location it did not configure.
        redirect: 'manual',
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const why = isTimeout(err) ? `timed out after ${this.#timeoutMs} ms` : networkCode(err);
      throw new VaultRequestError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', `${where}: ${why}`);
    }
    return this.#answer(where, status, text);
  }

  #answer(where: string, status: number, text: string): VaultAnswer {
    if (status >= 300 && status < 400) {
      const detail = `${where}: ${status} redirect (a standby node?): configure the active node or a load balancer`;
      throw new VaultRequestError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', detail, status);
    }
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
      if (status >= 200 && status < 300) {
        throw new VaultRequestError('BROKER_ADAPTER_BACKEND_MALFORMED', `${where}: body is not json`, status);
      }
    }
    if (status >= 200 && status < 300) {
      if (body === undefined) return undefined;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new VaultRequestError(
          'BROKER_ADAPTER_BACKEND_MALFORMED',
          `${where}: body is not an object`,
          status,
        );
      }
      return body as Record<string, unknown>;
    }
    const messages = vaultErrorMessages(body);
    const said = messages.length > 0 ? ` ${messages.join('; ')}` : '';
    throw new VaultRequestError(codeForStatus(status), `${where}: ${status}${said}`, status, messages);
  }
}
