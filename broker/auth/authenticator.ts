import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { BundleSource, Certificate, SpiffeBundle } from '../../spiffe/bundle.js';
import type { Clock } from '../../spiffe/clock.js';
import { verifyJwtSvid, type JwtSvidAlgorithm } from '../../spiffe/jwt-svid.js';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { peerSvid } from '../../spiffe/tls.js';
import { verifyX509Svid, type VerifiedX509Svid } from '../../spiffe/x509-svid.js';
import { AuthError, translateVerifyError } from './auth-error.js';
import type { ReplayStore } from './replay-store.js';
import { NO_ANOMALY_OBSERVER, type AnomalyObserver } from '../anomaly/anomaly-observer.js';
import { createSvidCache, type CachedJwtSvid } from './svid-cache.js';

/** How a caller proved its identity. */
export type AuthMethod = 'jwt-svid' | 'x509-svid';

/** An authenticated caller: its SPIFFE ID and when the SVID that proved it expires (DESIGN invariant 2). */
export interface Caller {
  readonly id: SpiffeId;
  readonly via: AuthMethod;
  readonly svidExpiresAt: Date;
}

/** Replay protection: where presented tokens are remembered, and which callers it applies to. */
export interface ReplayProtection {
  readonly store: ReplayStore;
  /** The policy's `jwt_svid_replay_protection` for this caller (read from the policy in force). */
  required(id: SpiffeId): boolean;
}

/** What {@link createAuthenticator} needs. */
export interface AuthenticatorDeps {
  /** The trust bundles (the development CA's, or a SPIRE agent's through the Workload API). */
  readonly bundles: BundleSource;
  /** The broker's audience: a JWT-SVID's `aud` must contain it (JWT-SVID §3.2). */
  readonly audience: string;
  readonly clock: Clock;
  readonly replay?: ReplayProtection;
  /** Verified JWT-SVIDs kept (default 10 000; 0 disables the cache). */
  readonly cacheSize?: number;
  /** Narrows the JWT-SVID algorithms (default: every algorithm JWT-SVID §2.1 allows). */
  readonly algorithms?: readonly JwtSvidAlgorithm[];
  /** Told of each replay refusal (the built-in `svid_replay` detector); no I/O, never throws. */
  readonly observer?: Pick<AnomalyObserver, 'svidReplayed'>;
}

/** Authenticates broker callers by SVID. */
export interface Authenticator {
  /**
   * Verifies a JWT-SVID presented as a bearer token (RFC 6750 §2.1).
   *
   * @throws {AuthError} `BROKER_AUTH_MISSING` for an absent or empty token; `BROKER_AUTH_INVALID`
   *   wrapping the SPIFFE verifier's error (reason `expired` for an expired one), or reason
   *   `replayed` / `replay_capacity` when replay protection refuses it.
   */
  authenticateBearer(token: string | undefined): Promise<Caller>;
  /**
   * Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1) and verifies it.
   *
   * @throws {AuthError} as {@link authenticateBearer}; `BROKER_AUTH_INVALID` (`malformed_header`) for
   *   another scheme or a malformed header.
   */
  authenticateAuthorization(header: string | undefined): Promise<Caller>;
  /**
   * Verifies an X509-SVID chain (leaf first) presented over mTLS with `verifyX509Svid`, whichever root
   * TLS accepted it under (X509-SVID §5.2).
   *
   * @throws {AuthError} `BROKER_AUTH_MISSING` for an empty chain, `BROKER_AUTH_INVALID` otherwise.
   */
  authenticatePeer(chain: readonly Certificate[]): Promise<Caller>;
  /** Like {@link authenticatePeer}, for an established TLS connection (`peerSvid`). */
  authenticateSocket(socket: TLSSocket): Promise<Caller>;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Creates the broker's authenticator (ISSUE 3, Authentication). JWT-SVIDs are verified against
 * `bundles` with `verifyJwtSvid` for the broker's audience, then cached by the SHA-256 of the token in
 * a bounded LRU until they expire; every hit re-checks the expiry against the clock and that the
 * trust domain's bundle is unchanged, so the cache never extends validity. Replay protection, when
 * the policy asks for it, runs on every presentation, cached or not.
 */
export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const cache = createSvidCache(deps.cacheSize);
  const bundleOf = (id: SpiffeId): SpiffeBundle | undefined => {
    try {
      return deps.bundles.getBundleForTrustDomain(id.trustDomain);
    } catch {
      return undefined;
    }
  };

  async function verifyFresh(token: string, now: Date): Promise<CachedJwtSvid> {
    try {
      const verified = await verifyJwtSvid(token, deps.bundles, {
        now,
        audience: deps.audience,
        ...(deps.algorithms ? { algorithms: deps.algorithms } : {}),
      });
      const bundle = deps.bundles.getBundleForTrustDomain(verified.id.trustDomain);
      const jti = typeof verified.claims.jti === 'string' ? verified.claims.jti : undefined;
      return Object.freeze({ id: verified.id, expiresAt: verified.expiresAt, jti, bundle });
    } catch (err) {
      throw translateVerifyError(err);
    }
  }

  async function checkReplay(entry: CachedJwtSvid, hash: string, now: Date): Promise<void> {
    if (!deps.replay?.required(entry.id)) return;
    // Keyed by (sub, jti) when the token has a jti, else by its hash ("by jti or a hash").
    const key = entry.jti === undefined ? `sha256:${hash}` : `jti:${entry.id.toString()}#${entry.jti}`;
    const verdict = await deps.replay.store.remember(key, entry.expiresAt, now);
    if (verdict === 'replayed') {
      (deps.observer ?? NO_ANOMALY_OBSERVER).svidReplayed({ workload: entry.id, now });
      throw new AuthError('replayed');
    }
    if (verdict === 'full') throw new AuthError('replay_capacity');
  }

  async function authenticateBearer(token: string | undefined): Promise<Caller> {
    if (token === undefined || token === '') throw new AuthError('missing');
    const now = deps.clock.now();
    const hash = createHash('sha256').update(token, 'utf8').digest('hex');
    let entry = cache.get(hash, now, bundleOf);
    if (entry === undefined) {
      entry = await verifyFresh(token, now);
      cache.set(hash, entry);
    }
    await checkReplay(entry, hash, now);
    return Object.freeze({ id: entry.id, via: 'jwt-svid' as const, svidExpiresAt: entry.expiresAt });
  }

  const fromX509 = (verified: VerifiedX509Svid): Caller =>
    Object.freeze({ id: verified.id, via: 'x509-svid' as const, svidExpiresAt: verified.expiresAt });

  return Object.freeze({
    authenticateBearer,
    async authenticateAuthorization(header: string | undefined): Promise<Caller> {
      if (header === undefined || header.trim() === '') throw new AuthError('missing');
      const match = BEARER.exec(header);
      if (!match) throw new AuthError('malformed_header');
      return authenticateBearer(match[1]);
    },
    async authenticatePeer(chain: readonly Certificate[]): Promise<Caller> {
      if (chain.length === 0) throw new AuthError('missing');
      try {
        return fromX509(await verifyX509Svid(chain, deps.bundles, { now: deps.clock.now() }));
      } catch (err) {
        throw translateVerifyError(err);
      }
    },
    async authenticateSocket(socket: TLSSocket): Promise<Caller> {
      try {
        return fromX509(await peerSvid(socket, deps.bundles, { now: deps.clock.now() }));
      } catch (err) {
        const translated = translateVerifyError(err);
        if (translated instanceof AuthError && translated.spiffeCode === 'SPIFFE_X509_EMPTY_CHAIN') {
          throw new AuthError('missing', { cause: err });
        }
        throw translated;
      }
    },
  });
}
