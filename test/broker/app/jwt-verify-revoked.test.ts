// The jwt provider's verifyRevoked over the real app: it asks the broker's record by jti (the
// credentials_jti_idx lookup), so a revocation is confirmed at once, not only after expiry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { taskTokenHash } from '../../../adapters/jwt/index.js';
import type { JsonObject } from '../../../broker/ledger/canonical-json.js';
import { startLiveBroker, type LiveBroker } from '../../support/live-broker.js';

describe('jwt provider verifyRevoked through the app', { timeout: 60_000 }, () => {
  let broker: LiveBroker;
  before(async () => {
    broker = await startLiveBroker();
  });
  after(() => broker?.stop());

  const secrets = new Map<string, string>();
  const issue = async () => {
    const issued = await broker.taskWithToken();
    secrets.set(issued.credentialId, issued.token);
    return issued;
  };
  const check = async (credentialId: string) => {
    const record = await broker.app.store.findCredentialBySecretHash(
      taskTokenHash(secrets.get(credentialId)!),
    );
    const handle = record!.revocationHandle as JsonObject;
    return broker.app.providers.get('crm-api').verifyRevoked({ handle, now: broker.clock.now() });
  };

  it('does not confirm a live token', async () => {
    const { credentialId } = await issue();
    assert.equal((await check(credentialId)).confirmed, false);
  });

  it('confirms once the credential is marked revoked', async () => {
    const { credentialId } = await issue();
    await broker.app.store.markCredentials({
      ids: [credentialId],
      outcome: 'revoked',
      reason: 'test',
      now: broker.clock.now(),
    });
    const result = await check(credentialId);
    assert.equal(result.confirmed, true);
    assert.match(result.detail, /revocation list/);
  });

  it('confirms every token of a task once the task has ended', async () => {
    const { credentialId, taskId } = await issue();
    await broker.complete(taskId);
    assert.equal((await check(credentialId)).confirmed, true);
  });
});
