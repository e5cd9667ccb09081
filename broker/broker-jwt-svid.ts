import type { DevCa } from '../spiffe/ca/index.js';
import type { Clock } from '../spiffe/clock.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import type { WorkloadSource } from '../spiffe/workload-api/index.js';
import { BROKER_ID_PATH } from './api/grpc/dev-ca-svid.js';
import { BrokerError } from './errors.js';

/** The broker's own JWT-SVID for `audience` (a compact JWS): how it proves itself to a backend. */
export type BrokerJwtSvidSource = (audience: string) => Promise<string>;

/** Lifetime of a JWT-SVID minted for one login: the backend checks it once, at login. */
const LOGIN_SVID_TTL_SECONDS = 120;

/**
 * In `dev-ca` mode: the broker's JWT-SVID as `spiffe://<td>/taskpass/broker`, minted from the
 * development CA per call (short-lived: it only has to survive the login it is made for). `ca` is read
 * at each call, so the source can be handed out before the CA exists.
 *
 * @throws {BrokerError} `BROKER_CONFIG_INVALID` (from the returned function) when there is no CA.
 */
export function devCaJwtSvidSource(ca: () => DevCa | undefined, clock: Clock): BrokerJwtSvidSource {
  return async (audience) => {
    const current = ca();
    if (current === undefined)
      throw new BrokerError('BROKER_CONFIG_INVALID', 'no development ca for a jwt-svid');
    const id = SpiffeId.parse(`${current.trustDomain.idString}${BROKER_ID_PATH}`);
    const svid = await current.mintJwtSvid({
      id,
      now: clock.now(),
      audience: [audience],
      ttlSeconds: LOGIN_SVID_TTL_SECONDS,
    });
    return svid.token;
  };
}

/** In `workload-api` mode: the broker's JWT-SVID for `audience` from the SPIRE agent (`FetchJWTSVID`). */
export function agentJwtSvidSource(source: Pick<WorkloadSource, 'fetchJwtSvid'>): BrokerJwtSvidSource {
  return async (audience) => (await source.fetchJwtSvid({ audience })).token;
}
