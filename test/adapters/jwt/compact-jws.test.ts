import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { compactVerify, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import type { TaskTokenAlgorithm } from '../../../adapters/jwt/config.js';
import { signCompactJws } from '../../../adapters/jwt/compact-jws.js';

function keyPair(alg: TaskTokenAlgorithm): { privateKey: KeyObject; publicJwk: JWK } {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: pair.privateKey,
    publicJwk: createPublicKey(pair.privateKey).export({ format: 'jwk' }),
  };
}

const CLAIMS = {
  iss: 'https://broker.test',
  sub: 'spiffe://td/a',
  aud: 'crm',
  iat: 1,
  nbf: 1,
  exp: 4102444800,
  jti: 'j1',
};

/** Flips one character of the part at `index` (0 header, 1 payload, 2 signature). */
function tamper(token: string, index: number): string {
  const parts = token.split('.');
  const part = parts[index]!;
  const c = part[5] === 'A' ? 'B' : 'A';
  parts[index] = part.slice(0, 5) + c + part.slice(6);
  return parts.join('.');
}

describe('signCompactJws (RFC 7515 §7.1, RFC 7518 §3.1): tokens verify with an independent library', () => {
  for (const alg of ['ES256', 'RS256', 'PS256'] as const) {
    it(`${alg}: jose verifies it with the algorithm pinned, header and claims intact`, async () => {
      const { privateKey, publicJwk } = keyPair(alg);
      const token = signCompactJws({ alg, kid: 'k1', typ: 'at+jwt' }, CLAIMS, privateKey);
      const key = await importJWK(publicJwk, alg);
      const { payload, protectedHeader } = await jwtVerify(token, key, {
        algorithms: [alg],
        typ: 'at+jwt',
        audience: 'crm',
        issuer: 'https://broker.test',
      });
      assert.deepEqual(protectedHeader, { alg, kid: 'k1', typ: 'at+jwt' });
      assert.deepEqual(payload, CLAIMS);
      assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'base64url without padding');
    });

    for (const [what, index] of [
      ['header', 0],
      ['payload', 1],
      ['signature', 2],
    ] as const) {
      it(`${alg}: a token with its ${what} altered fails verification`, async () => {
        const { privateKey, publicJwk } = keyPair(alg);
        const token = tamper(signCompactJws({ alg, kid: 'k1', typ: 'at+jwt' }, CLAIMS, privateKey), index);
        const key = await importJWK(publicJwk, alg);
        await assert.rejects(compactVerify(token, key, { algorithms: [alg] }), (err: { code?: string }) =>
          ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWS_INVALID', 'ERR_JOSE_ALG_NOT_ALLOWED'].includes(
            err.code ?? '',
          ),
        );
      });
    }
  }

  it('the header names exactly the key that signed (a different key does not verify it)', async () => {
    const signer = keyPair('ES256');
    const other = keyPair('ES256');
    const token = signCompactJws({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }, CLAIMS, signer.privateKey);
    assert.equal(decodeProtectedHeader(token).kid, 'k1');
    await assert.rejects(
      compactVerify(token, await importJWK(other.publicJwk, 'ES256'), { algorithms: ['ES256'] }),
      (err: { code?: string }) => err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    );
  });
});
