// When the JWT-SVID source asks the Workload API again. The Workload API itself is exercised over a
// real socket in client.test.ts; here a fake client counts fetches while a fake clock moves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkloadApiJwtSource } from '../../client/workload-api-jwt-source.js';
import { SpiffeError } from '../../spiffe/errors.js';
import type { JwtSvid } from '../../spiffe/svid.js';
import type { JwtSvidRequest, WorkloadApiClient } from '../../spiffe/workload-api/index.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { spiffeIdLiteral } from '../support/test-ca.js';

const ID = spiffeIdLiteral('spiffe://taskpass.local/dev/workload');

/** A Workload API client that mints numbered JWT-SVIDs living `ttlMs` from the clock's now. */
function fakeClient(clock: FakeClock, ttlMs: number) {
  const requests: JwtSvidRequest[] = [];
  let failNext: Error | undefined;
  let closed = false;
  const client = {
    fetchJwtSvid(request: JwtSvidRequest): Promise<JwtSvid> {
      requests.push(request);
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        return Promise.reject(err);
      }
      const expiresAt = new Date(clock.now().getTime() + ttlMs);
      return Promise.resolve({ id: ID, token: `token-${requests.length}`, audience: ['b'], expiresAt });
    },
    close: () => (closed = true),
  } as unknown as WorkloadApiClient;
  return {
    client,
    requests,
    failNextWith: (err: Error) => (failNext = err),
    closed: () => closed,
  };
}

describe('createWorkloadApiJwtSource', () => {
  it('reuses a JWT-SVID until half its lifetime has passed, then fetches a fresh one', async () => {
    const clock = new FakeClock();
    const fake = fakeClient(clock, 300_000);
    const source = createWorkloadApiJwtSource({
      socketPath: 'unix:///unused',
      audience: 'b',
      clock,
      client: fake.client,
    });
    assert.equal(await source.token(), 'token-1');
    clock.advance(149_000);
    assert.equal(await source.token(), 'token-1');
    clock.advance(1_000);
    assert.equal(await source.token(), 'token-2');
    assert.deepEqual(
      fake.requests.map((r) => r.audience),
      ['b', 'b'],
    );
  });

  it('shares one fetch among concurrent callers, and retries after a failure', async () => {
    const clock = new FakeClock();
    const fake = fakeClient(clock, 300_000);
    const source = createWorkloadApiJwtSource({
      socketPath: 'unix:///unused',
      audience: 'b',
      clock,
      client: fake.client,
    });
    fake.failNextWith(new SpiffeError('SPIFFE_WORKLOAD_UNAVAILABLE'));
    await assert.rejects(source.token(), (err: SpiffeError) => err.code === 'SPIFFE_WORKLOAD_UNAVAILABLE');
    const tokens = await Promise.all([source.token(), source.token(), source.token()]);
    assert.deepEqual(tokens, ['token-2', 'token-2', 'token-2']);
    assert.equal(fake.requests.length, 2);
  });

  it('asks for the given identity, and leaves a client it did not open open', async () => {
    const clock = new FakeClock();
    const fake = fakeClient(clock, 60_000);
    const source = createWorkloadApiJwtSource({
      socketPath: 'unix:///unused',
      audience: 'b',
      clock,
      client: fake.client,
      spiffeId: ID,
    });
    await source.token();
    assert.equal(fake.requests[0]!.spiffeId, ID);
    source.close();
    assert.equal(fake.closed(), false);
  });
});
