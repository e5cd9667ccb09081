import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64url, SignJWT } from 'jose';
import type { TaskTokenAlgorithm } from '../../../adapters/jwt/config.js';
import type { TaskTokenKeyring } from '../../../adapters/jwt/signing-keys.js';
import { verifyTaskToken, type VerifyTaskTokenOptions } from '../../../adapters/jwt/verify-task-token.js';
import { ISSUER, T0, WORKLOAD, jwtSetup, minutes } from './support.js';

const T0_S = T0.getTime() / 1000;
const CLAIMS = {
  iss: ISSUER,
  sub: WORKLOAD.toString(),
  aud: 'crm-api',
  iat: T0_S,
  nbf: T0_S,
  exp: T0_S + 300,
  jti: 'jti-1',
  scope: 'a b',
  task_id: 'task-1',
};

interface Forge {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  alg?: TaskTokenAlgorithm;
}

/** Signs arbitrary header and claims with the keyring's current key for `alg`. */
async function forge(keyring: TaskTokenKeyring, f: Forge = {}): Promise<string> {
  const key = await keyring.signingKey(f.alg ?? 'ES256', T0);
  const header = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...f.header };
  return new SignJWT({ ...CLAIMS, ...f.claims }).setProtectedHeader(header as never).sign(key.privateKey);
}

const encode = (value: unknown): string => base64url.encode(JSON.stringify(value));

type Case = [
  name: string,
  token: (k: TaskTokenKeyring) => Promise<string>,
  code: string | undefined,
  opts?: Partial<VerifyTaskTokenOptions>,
];

const CASES: Case[] = [
  ['accepts a well-formed token', (k) => forge(k), undefined],
  [
    'accepts a typ of application/at+jwt',
    (k) => forge(k, { header: { typ: 'application/at+jwt' } }),
    undefined,
  ],
  [
    'rejects alg none',
    async (k) =>
      `${encode({ alg: 'none', kid: (await k.signingKey('ES256', T0)).kid, typ: 'at+jwt' })}.${encode(CLAIMS)}.`,
    'BROKER_TOKEN_ALG_NOT_ALLOWED',
  ],
  [
    'rejects HS256 keyed with the public key',
    async (k) => {
      const jwk = k.jwks(T0).keys[0]!;
      const secret = new TextEncoder().encode(JSON.stringify(jwk));
      return new SignJWT(CLAIMS)
        .setProtectedHeader({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' })
        .sign(secret);
    },
    'BROKER_TOKEN_ALG_NOT_ALLOWED',
  ],
  [
    'rejects an algorithm outside the pinned list',
    (k) => forge(k, { alg: 'PS256' }),
    'BROKER_TOKEN_ALG_NOT_ALLOWED',
    { algorithms: ['ES256'] },
  ],
  [
    'rejects a wrong audience',
    (k) => forge(k, { claims: { aud: 'billing-api' } }),
    'BROKER_TOKEN_WRONG_AUDIENCE',
  ],
  [
    'rejects a wrong issuer',
    (k) => forge(k, { claims: { iss: 'https://evil.example' } }),
    'BROKER_TOKEN_WRONG_ISSUER',
  ],
  ['rejects a token at its exp', (k) => forge(k), 'BROKER_TOKEN_EXPIRED', { now: minutes(T0, 5) }],
  ['rejects a token long expired', (k) => forge(k), 'BROKER_TOKEN_EXPIRED', { now: minutes(T0, 60) }],
  [
    'rejects a token before its nbf',
    (k) => forge(k, { claims: { nbf: T0_S + 120 } }),
    'BROKER_TOKEN_NOT_YET_VALID',
  ],
  [
    'rejects a token issued in the future',
    (k) => forge(k, { claims: { iat: T0_S + 120 } }),
    'BROKER_TOKEN_NOT_YET_VALID',
  ],
  ['rejects an unknown kid', (k) => forge(k, { header: { kid: 'not-a-key' } }), 'BROKER_TOKEN_UNKNOWN_KID'],
  ['rejects a missing kid', (k) => forge(k, { header: { kid: undefined } }), 'BROKER_TOKEN_MALFORMED'],
  ['rejects a typ of JWT', (k) => forge(k, { header: { typ: 'JWT' } }), 'BROKER_TOKEN_MALFORMED'],
  ['rejects a missing typ', (k) => forge(k, { header: { typ: undefined } }), 'BROKER_TOKEN_MALFORMED'],
  [
    'rejects a tampered payload',
    async (k) => {
      const [h, , s] = (await forge(k)).split('.');
      return `${h}.${encode({ ...CLAIMS, scope: 'admin' })}.${s}`;
    },
    'BROKER_TOKEN_BAD_SIGNATURE',
  ],
  [
    'rejects a PS256 header on a key published for RS256',
    async (k) => {
      const key = await k.signingKey('RS256', T0);
      return new SignJWT(CLAIMS)
        .setProtectedHeader({ alg: 'PS256', kid: key.kid, typ: 'at+jwt' })
        .sign(key.privateKey);
    },
    'BROKER_TOKEN_BAD_SIGNATURE',
  ],
  [
    'rejects a sub that is not a spiffe id',
    (k) => forge(k, { claims: { sub: 'agent' } }),
    'BROKER_TOKEN_MALFORMED',
  ],
  ['rejects a missing jti', (k) => forge(k, { claims: { jti: undefined } }), 'BROKER_TOKEN_MALFORMED'],
  ['rejects a missing exp', (k) => forge(k, { claims: { exp: undefined } }), 'BROKER_TOKEN_MALFORMED'],
  [
    'rejects a missing task_id',
    (k) => forge(k, { claims: { task_id: undefined } }),
    'BROKER_TOKEN_MALFORMED',
  ],
  ['rejects a non-string scope', (k) => forge(k, { claims: { scope: ['a'] } }), 'BROKER_TOKEN_MALFORMED'],
  ['rejects garbage', async () => 'not-a-token', 'BROKER_TOKEN_MALFORMED'],
  ['rejects extra segments', async (k) => `${await forge(k)}.x`, 'BROKER_TOKEN_MALFORMED'],
  ['rejects an undecodable header', async () => 'e30x.e30.sig', 'BROKER_TOKEN_MALFORMED'],
];

describe('verifyTaskToken', () => {
  for (const [name, make, code, opts] of CASES) {
    it(name, async () => {
      const { keyring } = await jwtSetup({ algorithms: ['ES256', 'RS256', 'PS256'] });
      const result = await verifyTaskToken(await make(keyring), {
        jwks: keyring.jwks(T0),
        algorithms: ['ES256', 'RS256', 'PS256'],
        audience: 'crm-api',
        issuer: ISSUER,
        now: minutes(T0, 1),
        ...opts,
      });
      assert.equal(result.ok ? undefined : result.code, code, result.ok ? '' : result.reason);
    });
  }

  it('returns the parsed claims of a valid token', async () => {
    const { keyring } = await jwtSetup();
    const result = await verifyTaskToken(await forge(keyring), {
      jwks: keyring.jwks(T0),
      algorithms: ['ES256'],
      audience: ['other', 'crm-api'],
      now: T0,
    });
    assert.ok(result.ok);
    assert.ok(result.token.subject.equals(WORKLOAD));
    assert.deepEqual(
      { ...result.token, subject: undefined, claims: undefined },
      {
        issuer: ISSUER,
        subject: undefined,
        audience: ['crm-api'],
        expiresAt: minutes(T0, 5),
        issuedAt: T0,
        jti: 'jti-1',
        scopes: ['a', 'b'],
        taskId: 'task-1',
        kid: keyring.jwks(T0).keys[0]!.kid,
        claims: undefined,
      },
    );
  });

  it('never puts the token in its rejection reason', async () => {
    const { keyring } = await jwtSetup();
    const token = await forge(keyring, { claims: { aud: 'x' } });
    const result = await verifyTaskToken(token, {
      jwks: keyring.jwks(T0),
      algorithms: ['ES256'],
      audience: 'crm-api',
      now: T0,
    });
    assert.ok(!result.ok && !result.reason.includes(token.split('.')[2]!));
  });
});
