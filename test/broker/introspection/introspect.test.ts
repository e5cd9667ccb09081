import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { createJwtAdapter } from '../../../adapters/jwt/index.js';
import { createIntrospector } from '../../../broker/introspection/introspect.js';
import {
  connectionRefused,
  codeOf,
  createHarness,
  ISSUER,
  START,
  type Harness,
} from '../issuance/support/harness.js';

describe('createIntrospector (RFC 7662)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('answers inactive for garbage and for a token signed by another key', async () => {
    assert.deepEqual(await h.introspector.introspect(''), { active: false });
    assert.deepEqual(await h.introspector.introspect('not.a.token'), { active: false });
    const keyring = await TaskTokenKeyring.open({
      store: createMemoryTaskTokenKeyStore(),
      now: h.clock.now(),
    });
    const adapter = createJwtAdapter({ keyring, isRevoked: async () => false });
    const caller = await h.caller('/agents/forger');
    const forged = await adapter.issue({
      config: adapter.parseConfig({ audience: 'crm-api', issuer: ISSUER }),
      taskId: '00000000-0000-4000-8000-000000000000',
      workload: caller.id,
      scopes: ['crm:read'],
      ttlSeconds: 60,
      now: h.clock.now(),
    });
    assert.deepEqual(await h.introspector.introspect(forged.secret), { active: false });
  });

  it('answers inactive for a validly signed token the ledger does not know', async () => {
    const caller = await h.caller('/agents/unknown');
    const adapter = createJwtAdapter({ keyring: h.keyring, isRevoked: async () => false });
    const unrecorded = await adapter.issue({
      config: adapter.parseConfig({ audience: 'crm-api', issuer: ISSUER }),
      taskId: '00000000-0000-4000-8000-000000000000',
      workload: caller.id,
      scopes: ['crm:read'],
      ttlSeconds: 60,
      now: h.clock.now(),
    });
    assert.deepEqual(await h.introspector.introspect(unrecorded.secret), { active: false });
  });

  it('answers inactive once the token expires, and for a revoked token', async () => {
    const caller = await h.caller('/agents/expiring');
    const task = await h.tasks.start(caller, START);
    const short = await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api', ttlSeconds: 30 });
    const long = await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    h.clock.advance(30_000);
    assert.deepEqual(await h.introspector.introspect(short.secret), { active: false });
    assert.equal((await h.introspector.introspect(long.secret)).active, true);
    await h.store.markCredentials({
      ids: [long.credentialId],
      outcome: 'revoked',
      reason: 'test',
      now: h.clock.now(),
    });
    assert.deepEqual(await h.introspector.introspect(long.secret), { active: false });
  });

  it('reports an error rather than guess when the store is down', async () => {
    const caller = await h.caller('/agents/store-down');
    const task = await h.tasks.start(caller, START);
    const issued = await h.issuance.issue(caller, { taskId: task.id, provider: 'crm-api' });
    h.executor.failNextWith(/FROM credentials WHERE secret_hash/, connectionRefused());
    assert.equal(await codeOf(h.introspector.introspect(issued.secret)), 'BROKER_STORE_UNAVAILABLE');
  });

  it('answers inactive when no jwt provider is configured', async () => {
    const none = createIntrospector({
      keyring: h.keyring,
      algorithms: ['ES256'],
      audiences: [],
      store: h.store,
      clock: h.clock,
    });
    assert.deepEqual(await none.introspect('a.b.c'), { active: false });
  });
});
