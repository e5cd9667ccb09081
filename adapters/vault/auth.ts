import { readFile } from 'node:fs/promises';
import { BrokerError } from '../../broker/errors.js';
import type { Clock } from '../../spiffe/clock.js';
import type { JsonObject } from '../credential-adapter.js';
import type { VaultAuthConfig } from './auth-config.js';
import { VaultRequestError, type VaultClient } from './client.js';
import { lookupTtl, parseAuth } from './response.js';

/** The broker's own JWT-SVID for `audience` (compact JWS), from the SPIRE agent or the development CA. */
export type JwtSvidSource = (audience: string) => Promise<string>;

/** What a {@link VaultSession} needs besides its client and auth config. */
export interface VaultSessionDeps {
  readonly clock: Clock;
  readonly jwtSvid?: JwtSvidSource | undefined;
  /** Reads a credential file (default: `fs.readFile` as UTF-8). */
  readonly readFile?: (path: string) => Promise<string>;
}

interface Held {
  readonly token: string;
  /** Epoch ms when Vault stops honouring it; undefined for a token without expiry. */
  readonly expiresAt: number | undefined;
  /** Epoch ms from which the session renews (or logs in again). */
  readonly refreshAt: number | undefined;
  readonly renewable: boolean;
  /** The lifetime to ask for at renewal (the TTL Vault gave at login), in seconds. */
  readonly ttl: number;
}

/** The share of a token's lifetime after which it is renewed (Vault's own agent renews at 2/3). */
const REFRESH_AT = 0.5;

/**
 * The broker's authenticated session with one Vault: it logs in (static token, AppRole or JWT),
 * caches the client token, renews it with `auth/token/renew-self` once half its TTL has passed, and
 * logs in again when the token is not renewable, renewal fails, or Vault says `permission denied`
 * to a cached token (revoked behind the broker's back). For a static token, "logging in" reads the
 * token file again and looks the token up, so the file can be rotated in place. Renewal happens on
 * demand, at the next call after the half-life: an idle broker makes no requests, and comes back
 * by logging in again (a static token left idle past its TTL must be replaced in its file).
 * Concurrent callers share one login or renewal in flight.
 */
export class VaultSession {
  readonly #client: VaultClient;
  readonly #auth: VaultAuthConfig;
  readonly #deps: VaultSessionDeps;
  #held: Held | undefined;
  #pending: Promise<Held> | undefined;

  constructor(client: VaultClient, auth: VaultAuthConfig, deps: VaultSessionDeps) {
    this.#client = client;
    this.#auth = auth;
    this.#deps = deps;
  }

  /**
   * A token that Vault honours now, logging in or renewing first when due.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BACKEND_*` from the login, `BROKER_ADAPTER_BAD_CONFIG`
   *   when a credential file cannot be read or no JWT-SVID source exists.
   */
  async token(): Promise<string> {
    const now = this.#deps.clock.now().getTime();
    const held = this.#held;
    if (held !== undefined && (held.refreshAt === undefined || now < held.refreshAt)) return held.token;
    this.#pending ??= this.#refresh(held, now).finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).token;
  }

  /** Drops `token` after Vault refused it, so the next {@link token} logs in again. */
  invalidate(token: string): void {
    if (this.#held?.token === token) this.#held = undefined;
  }

  /**
   * Runs `call` with the session's token; when Vault answers 403, it logs in once more and retries
   * (the cached token may have been revoked or expired early; a static token file may have been
   * rotated).
   */
  async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token();
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof VaultRequestError) || err.status !== 403) throw err;
      this.invalidate(token);
      return call(await this.token());
    }
  }

  async #refresh(held: Held | undefined, now: number): Promise<Held> {
    if (held !== undefined && held.renewable && held.expiresAt !== undefined && now < held.expiresAt) {
      try {
        this.#held = await this.#renew(held);
        return this.#held;
      } catch {
        // Renewal refused or failed: log in again (a static token file is simply read again).
      }
    }
    this.#held = await this.#login();
    return this.#held;
  }

  #hold(token: string, ttl: number, renewable: boolean): Held {
    const now = this.#deps.clock.now().getTime();
    if (ttl === 0) return { token, expiresAt: undefined, refreshAt: undefined, renewable: false, ttl };
    const refreshAt = now + Math.floor(ttl * REFRESH_AT * 1000);
    return { token, expiresAt: now + ttl * 1000, refreshAt, renewable, ttl };
  }

  async #renew(held: Held): Promise<Held> {
    const where = 'vault renew-self';
    const answer = await this.#client.request({
      method: 'POST',
      path: 'auth/token/renew-self',
      token: held.token,
      body: { increment: `${held.ttl}s` },
    });
    const auth = parseAuth(answer, where, false);
    // A renewal cut short (the token's max TTL is near) is the last one: next time, log in again.
    const renewable = auth.renewable && auth.leaseDuration >= held.ttl;
    return { ...this.#hold(held.token, auth.leaseDuration, renewable), ttl: held.ttl };
  }

  async #login(): Promise<Held> {
    const auth = this.#auth;
    if (auth.method === 'token') {
      const token = await this.#read(auth.tokenFile, 'auth.token_file');
      const answer = await this.#client.request({ method: 'GET', path: 'auth/token/lookup-self', token });
      const ttl = lookupTtl(answer) ?? 0;
      const renewable = (answer?.['data'] as { renewable?: unknown } | undefined)?.renewable === true;
      return this.#hold(token, ttl, renewable);
    }
    const body: JsonObject =
      auth.method === 'approle'
        ? {
            role_id: auth.roleId ?? (await this.#read(auth.roleIdFile ?? '', 'auth.role_id_file')),
            secret_id: await this.#read(auth.secretIdFile, 'auth.secret_id_file'),
          }
        : { role: auth.role, jwt: await this.#jwt(auth.audience, auth.jwtFile) };
    const path = `auth/${auth.mount}/login`;
    const answer = await this.#client.request({ method: 'POST', path, body });
    const login = parseAuth(answer, `vault POST ${path}`);
    return this.#hold(login.clientToken, login.leaseDuration, login.renewable);
  }

  async #jwt(audience: string, file: string | undefined): Promise<string> {
    if (file !== undefined) return this.#read(file, 'auth.jwt_file');
    if (this.#deps.jwtSvid === undefined) {
      throw new BrokerError('BROKER_ADAPTER_BAD_CONFIG', 'auth.jwt_file: no JWT-SVID source for vault login');
    }
    try {
      return await this.#deps.jwtSvid(audience);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
      throw new BrokerError('BROKER_ADAPTER_BACKEND_UNAVAILABLE', `no JWT-SVID for vault login: ${code}`, {
        cause: err,
      });
    }
  }

  async #read(path: string, key: string): Promise<string> {
    const read = this.#deps.readFile ?? ((p: string) => readFile(p, 'utf8'));
    let text: string;
    try {
      text = (await read(path)).trim();
    } catch {
      throw new BrokerError('BROKER_ADAPTER_BAD_CONFIG', `${key}: cannot be read`);
    }
    if (text === '') throw new BrokerError('BROKER_ADAPTER_BAD_CONFIG', `${key}: is empty`);
    return text;
  }
}
