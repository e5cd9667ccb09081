// What a request presents to authenticate, read one way for HTTP headers and gRPC metadata.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authFactsFrom } from '../../../broker/api/auth-facts.js';
import type { Certificate } from '../../../spiffe/bundle.js';
import { TestCa } from '../../support/test-ca.js';

describe('authFactsFrom', () => {
  let chain: Certificate[];
  before(async () => {
    chain = (await (await TestCa.root('example.org')).leaf()).chain;
  });

  const accepted: readonly [name: string, auth: string | string[] | undefined, bearer: string][] = [
    ['a bearer token', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['a lower-case scheme (RFC 9110 §11.1)', 'bearer abc.def.ghi', 'abc.def.ghi'],
    ['a b64token with padding (RFC 6750 §2.1)', 'Bearer abc-_~+/=', 'abc-_~+/='],
    ['one value in a list', ['Bearer abc'], 'abc'],
  ];
  for (const [name, auth, bearer] of accepted) {
    it(`takes ${name}, and the bearer wins over a chain`, () => {
      assert.deepEqual(authFactsFrom(auth, chain), { bearer });
    });
  }

  const refused: readonly [name: string, auth: string | string[] | undefined, code: string][] = [
    ['nothing at all', undefined, 'BROKER_AUTH_MISSING'],
    ['an empty list', [], 'BROKER_AUTH_MISSING'],
    ['another scheme', 'Basic dXNlcjpwYXNz', 'BROKER_AUTH_INVALID'],
    ['a scheme without a token', 'Bearer ', 'BROKER_AUTH_INVALID'],
    ['a token with a space', 'Bearer abc def', 'BROKER_AUTH_INVALID'],
    ['two tokens joined in one value', 'Bearer abc, Bearer def', 'BROKER_AUTH_INVALID'],
    ['two values', ['Bearer abc', 'Bearer def'], 'BROKER_AUTH_INVALID'],
  ];
  for (const [name, auth, code] of refused) {
    it(`refuses ${name} without a chain (${code})`, () => {
      assert.throws(() => authFactsFrom(auth, []), { code });
    });
  }

  it('takes the chain when there is no authorization', () => {
    assert.deepEqual(authFactsFrom(undefined, chain), { peerCertificates: chain });
  });

  it('does not fall back to the chain when the authorization is malformed', () => {
    assert.throws(() => authFactsFrom('Basic x', chain), { code: 'BROKER_AUTH_INVALID' });
  });
});
