import type { KeyObject } from 'node:crypto';
import type { Certificate } from './bundle.js';
import type { SpiffeId } from './spiffe-id.js';

/**
 * An X509-SVID with its private key (X509-SVID spec §3): what a workload holds to prove its identity.
 */
export interface X509Svid {
  readonly id: SpiffeId;
  /** The leaf first, then any intermediates up to (not including) the trust domain's root. */
  readonly certificates: readonly Certificate[];
  /** The leaf's private key. Never logged, never persisted outside the CA's own key store. */
  readonly privateKey: KeyObject;
  /** The leaf's notAfter. */
  readonly expiresAt: Date;
  /** Optional hint from the Workload API (which SVID to use when a workload has several). */
  readonly hint?: string;
}

/** A JWT-SVID (JWT-SVID spec §3): a signed token plus the facts read from it. */
export interface JwtSvid {
  readonly id: SpiffeId;
  /** The compact JWS. A bearer secret: never logged. */
  readonly token: string;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly hint?: string;
}
