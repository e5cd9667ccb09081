import type { Socket } from 'node:net';
import type { PeerCredentials, PeerCredentialsResolver } from '../../spiffe/workload-api/peer-credentials.js';

/**
 * A fake caller-attestation seam: every connection is attributed to whatever credentials the test set
 * (or to nobody, `undefined`, as when SO_PEERCRED is unavailable).
 */
export class FakePeerCredentials implements PeerCredentialsResolver {
  /** How many connections were resolved. */
  resolved = 0;
  #credentials: PeerCredentials | undefined;

  constructor(credentials?: PeerCredentials) {
    this.#credentials = credentials;
  }

  /** Credentials given to connections accepted from now on. */
  set(credentials: PeerCredentials | undefined): void {
    this.#credentials = credentials;
  }

  resolve(_socket: Socket): Promise<PeerCredentials | undefined> {
    this.resolved += 1;
    return Promise.resolve(this.#credentials);
  }
}
