import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SET_BYTES, verifySet, type VerifySetOptions } from '../../../broker/anomaly/set-verify.js';
import { BrokerError } from '../../../broker/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { staticSource, testBundle } from '../../support/test-ca.js';
import { TestJwtAuthority } from '../../support/test-jwt.js';
import { DETECTOR, mintSet, SESSION_REVOKED, taskSubject, type SetKnobs } from './support/set-fixtures.js';

const AUD = 'taskpass-broker';
const NOW = new Date('2025-01-01T00:00:00Z');
const nowS = NOW.getTime() / 1000;
const local = new TestJwtAuthority('ES256');
const rsa = new TestJwtAuthority('RS256');
const foreign = new TestJwtAuthority('ES256');
const impostor = new TestJwtAuthority('ES256', local.kid); // same kid, another key
const bundles = staticSource(
  testBundle('taskpass.local', { jwt: [local, rsa] }),
  testBundle('partner.example', { jwt: [foreign] }),
);
const opts: VerifySetOptions = {
  bundles,
  caller: SpiffeId.parse(DETECTOR),
  audience: AUD,
  now: NOW,
  maxAgeSeconds: 600,
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BrokerError, String(err));
  return err.code;
}

const set = (knobs: SetKnobs = {}, by: TestJwtAuthority = local): string =>
  mintSet(by, AUD, { now: NOW, ...knobs });

describe('verifySet', () => {
  it('accepts a SET from the caller, signed with its trust domain key (ES256 and RS256)', async () => {
    const task = '0b7a3c9e-2f4d-4c61-9a1e-5d3b8f6a7c21';
    const v = await verifySet(
      set({ jti: 'j-1', subId: taskSubject(task), claims: { txn: 't-9', toe: nowS - 5 } }),
      opts,
    );
    assert.equal(v.issuer.toString(), DETECTOR);
    assert.equal(v.jti, 'j-1');
    assert.deepEqual(v.subject, { taskId: task });
    assert.equal(v.txn, 't-9');
    assert.deepEqual(Object.keys(v.events), [SESSION_REVOKED]);
    assert.equal(v.rememberUntil.getTime(), NOW.getTime() + 660_000);
    assert.equal((await verifySet(set({}, rsa), opts)).jti.length > 0, true);
    assert.ok(await verifySet(set({ typ: 'application/secevent+jwt', aud: ['x', AUD] }), opts));
  });

  const rows: { name: string; token: () => string; code: string }[] = [
    {
      name: 'a bad signature (same kid, another key)',
      token: () => set({}, impostor),
      code: 'BROKER_SET_INVALID_KEY',
    },
    { name: 'alg none', token: () => set({ alg: 'none' }), code: 'BROKER_SET_INVALID_KEY' },
    {
      name: 'alg HS256 keyed with the public key',
      token: () => set({ alg: 'HS256' }),
      code: 'BROKER_SET_INVALID_KEY',
    },
    {
      name: 'an ES256 header on an RSA authority',
      token: () => set({ alg: 'ES256', kid: rsa.kid }, rsa),
      code: 'BROKER_SET_INVALID_KEY',
    },
    { name: 'no kid', token: () => set({ kid: null }), code: 'BROKER_SET_INVALID_KEY' },
    {
      name: 'a kid of the foreign trust domain',
      token: () => set({}, foreign),
      code: 'BROKER_SET_INVALID_KEY',
    },
    {
      name: 'an issuer in a foreign trust domain',
      token: () => set({ iss: 'spiffe://partner.example/detector' }, foreign),
      code: 'BROKER_SET_INVALID_ISSUER',
    },
    {
      name: 'another issuer than the caller',
      token: () => set({ iss: 'spiffe://taskpass.local/detectors/other' }),
      code: 'BROKER_SET_INVALID_ISSUER',
    },
    {
      name: 'an issuer that is not a spiffe id',
      token: () => set({ iss: 'https://idp.example/' }),
      code: 'BROKER_SET_INVALID_ISSUER',
    },
    { name: 'no iss', token: () => set({ iss: null }), code: 'BROKER_SET_INVALID_ISSUER' },
    { name: 'a wrong aud', token: () => set({ aud: 'someone-else' }), code: 'BROKER_SET_INVALID_AUDIENCE' },
    { name: 'no aud', token: () => set({ aud: null }), code: 'BROKER_SET_INVALID_AUDIENCE' },
    { name: 'no jti', token: () => set({ jti: null }), code: 'BROKER_SET_MALFORMED' },
    {
      name: 'a jti of 257 characters',
      token: () => set({ jti: 'j'.repeat(257) }),
      code: 'BROKER_SET_MALFORMED',
    },
    { name: 'no iat', token: () => set({ iat: null }), code: 'BROKER_SET_MALFORMED' },
    {
      name: 'an iat older than set_max_age',
      token: () => set({ iat: nowS - 601 }),
      code: 'BROKER_SET_STALE',
    },
    { name: 'an iat in the future', token: () => set({ iat: nowS + 120 }), code: 'BROKER_SET_STALE' },
    { name: 'an exp that has passed', token: () => set({ exp: nowS - 1 }), code: 'BROKER_SET_STALE' },
    {
      name: 'typ JWT (a JWT-SVID is not a SET)',
      token: () => set({ typ: 'JWT' }),
      code: 'BROKER_SET_MALFORMED',
    },
    { name: 'no typ', token: () => set({ typ: null }), code: 'BROKER_SET_MALFORMED' },
    { name: 'no events', token: () => set({ events: null }), code: 'BROKER_SET_MALFORMED' },
    { name: 'empty events', token: () => set({ events: {} }), code: 'BROKER_SET_MALFORMED' },
    {
      name: 'an event that is not an object',
      token: () => set({ events: { [SESSION_REVOKED]: 'yes' } }),
      code: 'BROKER_SET_MALFORMED',
    },
    { name: 'no sub_id', token: () => set({ subId: null }), code: 'BROKER_SET_BAD_SUBJECT' },
    {
      name: 'an email sub_id',
      token: () => set({ subId: { format: 'email', email: 'a@b.example' } }),
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    {
      name: 'a uri sub_id that is an https url',
      token: () => set({ subId: { format: 'uri', uri: 'https://x.example/a' } }),
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    {
      name: 'a bad spiffe id',
      token: () => set({ subId: { format: 'uri', uri: 'spiffe://TD/a' } }),
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    {
      name: 'a task urn without a uuid',
      token: () => set({ subId: { format: 'uri', uri: 'urn:taskpass:task:7' } }),
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    {
      name: 'a uri sub_id with extra members',
      token: () => set({ subId: { format: 'uri', uri: DETECTOR, iss: 'x' } }),
      code: 'BROKER_SET_BAD_SUBJECT',
    },
    { name: 'not a jws', token: () => 'hello', code: 'BROKER_SET_MALFORMED' },
    { name: 'a jwe (five parts)', token: () => 'a.b.c.d.e', code: 'BROKER_SET_MALFORMED' },
    { name: 'trailing data', token: () => `${set()}.x`, code: 'BROKER_SET_MALFORMED' },
    {
      name: 'an oversized SET',
      token: () => set({ claims: { pad: 'x'.repeat(MAX_SET_BYTES) } }),
      code: 'BROKER_SET_TOO_LARGE',
    },
  ];
  for (const row of rows) {
    it(`refuses ${row.name} with ${row.code}`, async () => {
      assert.equal(await codeOf(verifySet(row.token(), opts)), row.code);
    });
  }
});
