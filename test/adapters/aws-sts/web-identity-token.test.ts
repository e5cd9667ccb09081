import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  createKeyringWebIdentitySigner,
  webIdentityClaims,
  WEB_IDENTITY_TOKEN_TTL_SECONDS,
} from '../../../adapters/aws-sts/web-identity-token.js';
import { createMemoryTaskTokenKeyStore } from '../../../adapters/jwt/key-store.js';
import { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';

const NOW = new Date('2025-03-01T12:00:00.900Z');
const ISSUER = 'https://broker.example.org';

describe('aws-sts web identity tokens', () => {
  it('carries iss, sub, aud, iat, nbf, exp, jti, the tags claim and the source identity claim', () => {
    const claims = webIdentityClaims(
      ISSUER,
      {
        audience: 'sts.amazonaws.com',
        subject: 'spiffe://example.org/agents/x',
        now: NOW,
        sessionTags: [
          { key: 'taskpass:task_id', value: 't1' },
          { key: 'taskpass:session', value: 'tp-t1-00' },
        ],
        sourceIdentity: 'example.org,agents,x',
      },
      'jti-1',
    );
    const iat = Math.floor(NOW.getTime() / 1000);
    assert.deepEqual(claims, {
      iss: ISSUER,
      sub: 'spiffe://example.org/agents/x',
      aud: 'sts.amazonaws.com',
      iat,
      nbf: iat,
      exp: iat + WEB_IDENTITY_TOKEN_TTL_SECONDS,
      jti: 'jti-1',
      'https://aws.amazon.com/tags': {
        principal_tags: { 'taskpass:task_id': ['t1'], 'taskpass:session': ['tp-t1-00'] },
      },
      'https://aws.amazon.com/source_identity': 'example.org,agents,x',
    });
  });

  it('carries neither aws claim for the management session', () => {
    const claims = webIdentityClaims(ISSUER, { audience: 'a', subject: 'taskpass-broker', now: NOW }, 'j');
    assert.equal('https://aws.amazon.com/tags' in claims, false);
    assert.equal('https://aws.amazon.com/source_identity' in claims, false);
  });

  for (const algorithm of ['ES256', 'RS256'] as const) {
    it(`signs with the keyring (${algorithm}) so the broker JWKS verifies it, with a fresh jti each time`, async () => {
      const keyring = await TaskTokenKeyring.open({
        store: createMemoryTaskTokenKeyStore(),
        algorithms: [algorithm],
        now: NOW,
      });
      const sign = createKeyringWebIdentitySigner({ keyring, issuer: `${ISSUER}/` });
      const req = { audience: 'sts.amazonaws.com', subject: 'spiffe://example.org/agents/x', now: NOW };
      const [a, b] = [await sign(req), await sign(req)];
      const jwks = createLocalJWKSet(keyring.jwks(NOW) as never);
      const opts = {
        issuer: ISSUER,
        audience: 'sts.amazonaws.com',
        currentDate: NOW,
        algorithms: [algorithm],
      };
      const verified = await jwtVerify(a, jwks, opts);
      assert.equal(verified.protectedHeader.kid, keyring.jwks(NOW).keys[0]!.kid);
      assert.equal(verified.protectedHeader.typ, 'JWT');
      assert.notEqual(verified.payload.jti, (await jwtVerify(b, jwks, opts)).payload.jti);
      const late = new Date(NOW.getTime() + (WEB_IDENTITY_TOKEN_TTL_SECONDS + 1) * 1000);
      await assert.rejects(jwtVerify(a, jwks, { ...opts, currentDate: late }), { code: 'ERR_JWT_EXPIRED' });
    });
  }
});
