import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../../broker/auth/auth-error.js';
import { createAuthenticator, type AuthenticatorDeps } from '../../../broker/auth/authenticator.js';
import { createMemoryReplayStore } from '../../../broker/auth/replay-store.js';
import { BundleSet } from '../../../spiffe/bundle-set.js';
import { createDevCa, type DevCa } from '../../../spiffe/ca/index.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../../spiffe/trust-domain.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const AUD = 'taskpass-broker';
const AGENT = SpiffeId.parse('spiffe://taskpass.local/agents/a1');

async function authError(p: Promise<unknown>): Promise<AuthError> {
  const err = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
  return err;
}

describe('createAuthenticator', () => {
  let clock: FakeClock;
  let ca: DevCa;
  let bundles: BundleSet;
  const make = (over: Partial<AuthenticatorDeps> = {}) =>
    createAuthenticator({ bundles, audience: AUD, clock, ...over });
  const mint = (over: { audience?: string[]; ttlSeconds?: number; jti?: string } = {}) =>
    ca
      .mintJwtSvid({
        id: AGENT,
        now: clock.now(),
        audience: over.audience ?? [AUD],
        ttlSeconds: over.ttlSeconds ?? 300,
        ...(over.jti ? { extraClaims: { jti: over.jti } } : {}),
      })
      .then((s) => s.token);

  beforeEach(async () => {
    clock = new FakeClock('2025-01-01T00:00:00Z');
    ca = await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock });
    bundles = new BundleSet([ca.bundle()]);
  });

  it('authenticates a JWT-SVID for the broker audience, with its expiry', async () => {
    const caller = await make().authenticateBearer(await mint());
    assert.ok(caller.id.equals(AGENT));
    assert.equal(caller.via, 'jwt-svid');
    assert.equal(caller.svidExpiresAt.getTime(), clock.now().getTime() + 300_000);
  });

  it('reads the bearer scheme case-insensitively and refuses other schemes', async () => {
    const token = await mint();
    const auth = make();
    assert.ok((await auth.authenticateAuthorization(`bearer ${token}`)).id.equals(AGENT));
    const err = await authError(auth.authenticateAuthorization(`Basic ${token}`));
    assert.equal(err.code, 'BROKER_AUTH_INVALID');
    assert.equal(err.reason, 'malformed_header');
  });

  it('answers a missing credential with BROKER_AUTH_MISSING', async () => {
    const auth = make();
    for (const p of [
      auth.authenticateBearer(undefined),
      auth.authenticateBearer(''),
      auth.authenticateAuthorization(undefined),
      auth.authenticatePeer([]),
    ]) {
      assert.equal((await authError(p)).code, 'BROKER_AUTH_MISSING');
    }
  });

  it('refuses another audience, wrapping the SPIFFE cause', async () => {
    const err = await authError(make().authenticateBearer(await mint({ audience: ['someone-else'] })));
    assert.equal(err.code, 'BROKER_AUTH_INVALID');
    assert.equal(err.spiffeCode, 'SPIFFE_JWT_AUDIENCE_MISMATCH');
  });

  it('refuses a JWT-SVID of a trust domain it has no bundle for', async () => {
    const foreign = await createDevCa({ trustDomain: TrustDomain.parse('evil.example'), clock });
    const token = (
      await foreign.mintJwtSvid({
        id: SpiffeId.parse('spiffe://evil.example/x'),
        now: clock.now(),
        audience: [AUD],
      })
    ).token;
    const err = await authError(make().authenticateBearer(token));
    assert.equal(err.code, 'BROKER_AUTH_INVALID');
    assert.equal(err.spiffeCode, 'SPIFFE_BUNDLE_NOT_FOUND');
  });

  it('never lets the cache extend validity: a cached token is refused once expired', async () => {
    const auth = make();
    const token = await mint({ ttlSeconds: 60 });
    await auth.authenticateBearer(token);
    clock.advance(59_000);
    await auth.authenticateBearer(token);
    clock.advance(1_000);
    const err = await authError(auth.authenticateBearer(token));
    assert.equal(err.code, 'BROKER_AUTH_INVALID');
    assert.equal(err.reason, 'expired');
  });

  it('re-verifies a cached token when its trust domain bundle changes', async () => {
    const auth = make();
    const token = await mint();
    await auth.authenticateBearer(token);
    const other = await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock });
    bundles.add(other.bundle());
    const err = await authError(auth.authenticateBearer(token));
    assert.equal(err.spiffeCode, 'SPIFFE_JWT_UNKNOWN_KID');
  });

  it('refuses a replayed JWT-SVID when the policy flag is on for the caller, by jti or by hash', async () => {
    const replay = { store: createMemoryReplayStore(), required: (id: SpiffeId) => id.equals(AGENT) };
    const auth = make({ replay });
    for (const token of [await mint({ jti: 'j-1' }), await mint({ ttlSeconds: 200 })]) {
      await auth.authenticateBearer(token);
      const err = await authError(auth.authenticateBearer(token));
      assert.equal(err.code, 'BROKER_AUTH_INVALID');
      assert.equal(err.reason, 'replayed');
    }
  });

  it('accepts a token repeatedly when the flag is off for the caller', async () => {
    const auth = make({ replay: { store: createMemoryReplayStore(), required: () => false } });
    const token = await mint();
    await auth.authenticateBearer(token);
    await auth.authenticateBearer(token);
  });

  it('authenticates an X509-SVID chain and refuses it once expired', async () => {
    const svid = await ca.mintX509Svid({ id: AGENT, now: clock.now(), ttlSeconds: 600 });
    const auth = make();
    const caller = await auth.authenticatePeer(svid.certificates);
    assert.equal(caller.via, 'x509-svid');
    assert.ok(caller.id.equals(AGENT));
    assert.equal(caller.svidExpiresAt.getTime(), svid.expiresAt.getTime());
    clock.advance(601_000);
    const err = await authError(auth.authenticatePeer(svid.certificates));
    assert.equal(err.code, 'BROKER_AUTH_INVALID');
    assert.equal(err.reason, 'expired');
  });
});
