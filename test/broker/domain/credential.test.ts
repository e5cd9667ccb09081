import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isCredentialFinal,
  transitionCredential,
  type Credential,
  type CredentialStatus,
  type Revocability,
} from '../../../broker/domain/credential.js';
import { BrokerError } from '../../../broker/errors.js';

function credential(status: CredentialStatus, revocability: Revocability = 'revocable'): Credential {
  return Object.freeze({
    id: 'c-1',
    taskId: 't-1',
    provider: 'crm-api',
    scopes: ['crm:read'],
    issuedAt: new Date('2025-01-01T00:00:00Z'),
    expiresAt: new Date('2025-01-01T00:05:00Z'),
    revocability,
    status,
  });
}

describe('transitionCredential', () => {
  const allowed: Array<[CredentialStatus, CredentialStatus]> = [
    ['active', 'revoked'],
    ['active', 'expired'],
    ['active', 'revoke_failed'],
    ['revoke_failed', 'revoked'],
    ['revoke_failed', 'revoke_failed'],
    ['revoke_failed', 'expired'],
  ];
  for (const [from, to] of allowed) {
    it(`moves a revocable credential ${from} -> ${to}`, () => {
      const after = transitionCredential(credential(from), to);
      assert.equal(after.status, to);
      assert.ok(Object.isFrozen(after));
    });
  }

  const refused: Array<[CredentialStatus, CredentialStatus, Revocability]> = [
    ['revoked', 'active', 'revocable'],
    ['revoked', 'expired', 'revocable'],
    ['expired', 'revoked', 'revocable'],
    ['active', 'active', 'revocable'],
    ['revoke_failed', 'active', 'revocable'],
    ['active', 'revoked', 'expires-only'],
    ['active', 'revoke_failed', 'expires-only'],
  ];
  for (const [from, to, revocability] of refused) {
    it(`refuses ${from} -> ${to} for a ${revocability} credential`, () => {
      assert.throws(
        () => transitionCredential(credential(from, revocability), to),
        (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_ISSUANCE_BAD_TRANSITION',
      );
    });
  }

  it('lets an expires-only credential expire', () => {
    assert.equal(transitionCredential(credential('active', 'expires-only'), 'expired').status, 'expired');
  });

  it('treats revoked and expired as final, revoke_failed as still pending', () => {
    assert.deepEqual((['active', 'revoked', 'expired', 'revoke_failed'] as const).map(isCredentialFinal), [
      false,
      true,
      true,
      false,
    ]);
  });
});
