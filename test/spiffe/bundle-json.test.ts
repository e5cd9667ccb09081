import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonWebKey } from 'node:crypto';
import {
  marshalBundle,
  parseBundle,
  parseBundleDocument,
  parseBundleFromPem,
} from '../../spiffe/bundle-json.js';
import { SpiffeBundle } from '../../spiffe/bundle.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';
import { certJwk, createJwtKeyPair, createTestRoot, x5c, type TestCert } from './bundle-fixtures.js';

const td = TrustDomain.parse('example.org');

let rootA: TestCert;
let rootB: TestCert;
let jwtA: { publicJwk: JsonWebKey; privateJwk: JsonWebKey };
let jwtB: { publicJwk: JsonWebKey; privateJwk: JsonWebKey };

before(async () => {
  rootA = await createTestRoot('example.org');
  rootB = await createTestRoot('example.org');
  jwtA = createJwtKeyPair();
  jwtB = createJwtKeyPair();
});

const x509Key = (root: TestCert): Record<string, unknown> => ({
  use: 'x509-svid',
  ...certJwk(root.cert),
  x5c: [x5c(root.cert)],
});
const jwtKey = (jwk: JsonWebKey, kid: string): Record<string, unknown> => ({ use: 'jwt-svid', ...jwk, kid });
const doc = (keys: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...extra, keys });

describe('parseBundle accepts SPIFFE bundles (Trust Domain and Bundle §4)', () => {
  it('reads X.509 and JWT authorities, the sequence number and the refresh hint', () => {
    const b = parseBundle(
      td,
      doc([x509Key(rootA), jwtKey(jwtA.publicJwk, 'kid-a')], {
        spiffe_sequence: 7,
        spiffe_refresh_hint: 300,
      }),
    );
    assert.equal(b.trustDomain.equals(td), true);
    assert.equal(b.x509Authorities.length, 1);
    assert.equal(b.x509Authorities[0]?.equal(rootA.cert), true);
    assert.deepEqual(b.findJwtAuthority('kid-a'), { ...jwtA.publicJwk, kid: 'kid-a' });
    assert.equal(b.sequenceNumber, 7);
    assert.equal(b.refreshHintSeconds, 300);
  });

  it('reads an empty key set as an empty bundle without sequence or hint', () => {
    const b = parseBundle(td, '{"keys":[]}');
    assert.equal(b.x509Authorities.length, 0);
    assert.equal(b.jwtAuthorities.size, 0);
    assert.equal(b.sequenceNumber, undefined);
    assert.equal(b.refreshHintSeconds, undefined);
  });

  it('accepts a zero sequence number', () => {
    assert.equal(parseBundle(td, doc([], { spiffe_sequence: 0 })).sequenceNumber, 0);
  });

  it('reads bytes as UTF-8 and drops a byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(doc([jwtKey(jwtA.publicJwk, 'k')]))]);
    assert.equal(parseBundle(td, bytes).jwtAuthorities.size, 1);
  });

  it('ignores entries whose use is unknown or missing (§4.2.2)', () => {
    const b = parseBundle(
      td,
      doc([
        { ...jwtA.publicJwk, use: 'sig', kid: 'x' },
        { ...jwtA.publicJwk, kid: 'y' },
      ]),
    );
    assert.equal(b.jwtAuthorities.size, 0);
  });

  it('ignores entries whose use is in another case (§4.2.2: values are case sensitive)', () => {
    assert.equal(
      parseBundle(td, doc([{ ...jwtA.publicJwk, use: 'JWT-SVID', kid: 'x' }])).jwtAuthorities.size,
      0,
    );
  });

  it('ignores entries whose key type is unknown (§4.2.1)', () => {
    const b = parseBundle(
      td,
      doc([{ kty: 'XYZ', use: 'jwt-svid', kid: 'x', pub: 'AAAA' }, jwtKey(jwtB.publicJwk, 'b')]),
    );
    assert.deepEqual([...b.jwtAuthorities.keys()], ['b']);
  });

  it('ignores top-level members the spec does not define (§4.1)', () => {
    assert.equal(
      parseBundle(td, doc([x509Key(rootA)], { issuer: 'x', spiffe_other: 1 })).x509Authorities.length,
      1,
    );
  });

  it('keeps an X.509 authority listed twice once', () => {
    assert.equal(
      parseBundle(td, doc([x509Key(rootA), x509Key(rootA), x509Key(rootB)])).x509Authorities.length,
      2,
    );
  });

  it('keeps only public key members and the kid of a JWT authority', () => {
    const b = parseBundle(
      td,
      doc([{ ...jwtKey(jwtA.publicJwk, 'a'), alg: 'ES256', key_ops: ['verify'], x5t: 'x' }]),
    );
    assert.deepEqual(Object.keys(b.findJwtAuthority('a') ?? {}).sort(), ['crv', 'kid', 'kty', 'x', 'y']);
  });
});

describe('parseBundle rejects malformed documents and bad key entries', () => {
  const cases: Array<{ name: string; input: () => string | Uint8Array; code: SpiffeErrorCode }> = [
    { name: 'text that is not JSON', input: () => 'not json', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'an empty document', input: () => '', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'truncated JSON', input: () => '{"keys":[', code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'bytes that are not UTF-8',
      input: () => new Uint8Array([0x7b, 0xff, 0x7d]),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    { name: 'a JSON array', input: () => '[]', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'JSON null', input: () => 'null', code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'a missing keys member (§4.1.3)',
      input: () => '{"spiffe_sequence":1}',
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    { name: 'keys that is not an array', input: () => '{"keys":{}}', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'a null keys member', input: () => '{"keys":null}', code: 'SPIFFE_BUNDLE_MALFORMED' },
    {
      name: 'a negative sequence',
      input: () => doc([], { spiffe_sequence: -1 }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a fractional sequence',
      input: () => doc([], { spiffe_sequence: 1.5 }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a string sequence',
      input: () => doc([], { spiffe_sequence: '1' }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a null sequence',
      input: () => doc([], { spiffe_sequence: null }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a sequence beyond 2^53',
      input: () => '{"keys":[],"spiffe_sequence":18446744073709551615}',
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a negative refresh hint',
      input: () => doc([], { spiffe_refresh_hint: -5 }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a string refresh hint',
      input: () => doc([], { spiffe_refresh_hint: '5m' }),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    { name: 'a key entry that is not an object', input: () => doc(['x']), code: 'SPIFFE_BUNDLE_BAD_KEY' },
    { name: 'a null key entry', input: () => doc([null]), code: 'SPIFFE_BUNDLE_BAD_KEY' },
    {
      name: 'a known use without kty',
      input: () => doc([{ use: 'jwt-svid', kid: 'a', crv: 'P-256' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    // x509-svid entries (X509-SVID §6).
    {
      name: 'an x509-svid entry without x5c',
      input: () => doc([{ ...x509Key(rootA), x5c: undefined }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid entry with an empty x5c',
      input: () => doc([{ ...x509Key(rootA), x5c: [] }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid entry with two certificates',
      input: () => doc([{ ...x509Key(rootA), x5c: [x5c(rootA.cert), x5c(rootB.cert)] }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid entry whose x5c is a string',
      input: () => doc([{ ...x509Key(rootA), x5c: x5c(rootA.cert) }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid certificate in base64url',
      input: () =>
        doc([{ ...x509Key(rootA), x5c: [x5c(rootA.cert).replace(/\+/g, '-').replace(/\//g, '_') + '-_'] }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid certificate that is not DER',
      input: () => doc([{ ...x509Key(rootA), x5c: ['AAAA'] }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid key that is not its certificate key',
      input: () => doc([{ ...x509Key(rootA), ...certJwk(rootB.cert) }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an x509-svid entry without key members',
      input: () => doc([{ use: 'x509-svid', kty: 'EC', x5c: [x5c(rootA.cert)] }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    // jwt-svid entries (JWT-SVID §6).
    {
      name: 'a jwt-svid entry without kid',
      input: () => doc([{ use: 'jwt-svid', ...jwtA.publicJwk }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a jwt-svid entry with an empty kid',
      input: () => doc([jwtKey(jwtA.publicJwk, '')]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a jwt-svid entry with a numeric kid',
      input: () => doc([{ ...jwtKey(jwtA.publicJwk, 'x'), kid: 1 }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'two jwt-svid entries with the same kid',
      input: () => doc([jwtKey(jwtA.publicJwk, 'dup'), jwtKey(jwtB.publicJwk, 'dup')]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a jwt-svid point that is not on the curve',
      input: () => doc([{ ...jwtKey(jwtA.publicJwk, 'a'), y: jwtB.publicJwk.y }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a jwt-svid key with an unknown curve',
      input: () => doc([{ ...jwtKey(jwtA.publicJwk, 'a'), crv: 'P-999' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    // Private and symmetric key material, whatever the entry's use.
    {
      name: 'an EC private key',
      input: () => doc([jwtKey(jwtA.privateJwk, 'a')]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a symmetric key',
      input: () => doc([{ kty: 'oct', use: 'jwt-svid', kid: 'h', k: 'c2VjcmV0' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an RSA private exponent',
      input: () => doc([{ kty: 'RSA', use: 'jwt-svid', kid: 'r', n: 'AQAB', e: 'AQAB', d: 'AQAB' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'private key material in an entry of unknown use',
      input: () => doc([{ ...jwtA.privateJwk, use: 'enc' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'private key material in an x509-svid entry',
      input: () => doc([{ ...x509Key(rootA), d: 'AAAA' }]),
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.code}`, () => {
      assert.throws(() => parseBundle(td, c.input()), { code: c.code });
    });
  }
});

describe('marshalBundle', () => {
  it('round-trips through parseBundle', () => {
    const original = new SpiffeBundle({
      trustDomain: td,
      x509Authorities: [rootA.cert, rootB.cert],
      jwtAuthorities: new Map([
        ['a', { ...jwtA.publicJwk, kid: 'a' }],
        ['b', { ...jwtB.publicJwk, kid: 'b' }],
      ]),
      sequenceNumber: 42,
      refreshHintSeconds: 60,
    });
    const again = parseBundle(td, marshalBundle(original));
    assert.equal(again.x509Authorities.length, 2);
    assert.ok(again.x509Authorities.every((c, i) => c.equal(original.x509Authorities[i])));
    assert.deepEqual(again.jwtAuthorities, original.jwtAuthorities);
    assert.equal(again.sequenceNumber, 42);
    assert.equal(again.refreshHintSeconds, 60);
  });

  it('writes the spec layout: use, key members, x5c and kid', () => {
    const json = JSON.parse(
      marshalBundle(
        new SpiffeBundle({
          trustDomain: td,
          x509Authorities: [rootA.cert],
          jwtAuthorities: new Map([['a', jwtA.publicJwk]]),
        }),
      ),
    );
    assert.deepEqual(json.keys[0], { use: 'x509-svid', ...certJwk(rootA.cert), x5c: [x5c(rootA.cert)] });
    assert.deepEqual(json.keys[1], { use: 'jwt-svid', ...jwtA.publicJwk, kid: 'a' });
    assert.equal('spiffe_sequence' in json, false);
    assert.equal('spiffe_refresh_hint' in json, false);
  });

  it('never writes private key members, even when an authority holds them', () => {
    const bundle = new SpiffeBundle({ trustDomain: td, jwtAuthorities: new Map([['a', jwtA.privateJwk]]) });
    const json = JSON.parse(marshalBundle(bundle));
    assert.equal('d' in json.keys[0], false);
    assert.doesNotThrow(() => parseBundle(td, marshalBundle(bundle)));
  });

  it('writes an empty bundle as an empty key set', () => {
    assert.deepEqual(JSON.parse(marshalBundle(new SpiffeBundle({ trustDomain: td }))), { keys: [] });
  });
});

describe('parseBundleFromPem', () => {
  it('reads every certificate as an X.509 authority', () => {
    const b = parseBundleFromPem(td, `subject=root A\n${rootA.certPem}\nsome comment\n${rootB.certPem}`);
    assert.equal(b.x509Authorities.length, 2);
    assert.equal(b.jwtAuthorities.size, 0);
    assert.equal(b.trustDomain.equals(td), true);
  });

  it('reads bytes and keeps a repeated certificate once', () => {
    const b = parseBundleFromPem(td, Buffer.from(rootA.certPem + rootA.certPem));
    assert.equal(b.x509Authorities.length, 1);
  });

  const cases: Array<{ name: string; input: () => string; code: SpiffeErrorCode }> = [
    { name: 'an empty document', input: () => '', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'text without PEM', input: () => 'hello', code: 'SPIFFE_BUNDLE_MALFORMED' },
    { name: 'a private key alone', input: () => rootA.keyPem, code: 'SPIFFE_BUNDLE_BAD_KEY' },
    {
      name: 'a private key beside a certificate',
      input: () => rootA.certPem + rootA.keyPem,
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'an encrypted private key with headers',
      input: () =>
        `${rootA.certPem}-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n`,
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
    {
      name: 'a public key block',
      input: () => '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a certificate cut short',
      input: () => rootA.certPem + rootB.certPem.slice(0, 200),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'mismatched BEGIN and END labels',
      input: () => rootA.certPem.replace('END CERTIFICATE', 'END X509 CRL'),
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a block that is not base64',
      input: () => '-----BEGIN CERTIFICATE-----\n*$%\n-----END CERTIFICATE-----\n',
      code: 'SPIFFE_BUNDLE_MALFORMED',
    },
    {
      name: 'a block that is not a certificate',
      input: () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      code: 'SPIFFE_BUNDLE_BAD_KEY',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.code}`, () => {
      assert.throws(() => parseBundleFromPem(td, c.input()), { code: c.code });
    });
  }
});

describe('parseBundleDocument', () => {
  it('reads a JSON bundle, even after leading whitespace', () => {
    assert.equal(parseBundleDocument(td, `\n  ${doc([jwtKey(jwtA.publicJwk, 'a')])}`).jwtAuthorities.size, 1);
  });

  it('reads PEM roots', () => {
    assert.equal(parseBundleDocument(td, rootA.certPem).x509Authorities.length, 1);
  });

  it('rejects text that is neither with SPIFFE_BUNDLE_MALFORMED', () => {
    assert.throws(() => parseBundleDocument(td, 'keys: []'), { code: 'SPIFFE_BUNDLE_MALFORMED' });
  });
});
