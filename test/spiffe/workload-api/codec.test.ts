import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { isSpiffeError, SpiffeError } from '../../../spiffe/errors.js';
import { parseEndpointAddress } from '../../../spiffe/workload-api/endpoint-address.js';
import { fromGrpcError, grpcStatusFor } from '../../../spiffe/workload-api/grpc-status.js';
import { findProtoDir, loadWorkloadApiProto } from '../../../spiffe/workload-api/proto.js';
import { fromStruct, toStruct } from '../../../spiffe/workload-api/struct-codec.js';
import {
  decodeJwtBundles,
  decodeJwtSvid,
  decodeX509Svid,
  encodeX509Svid,
} from '../../../spiffe/workload-api/wire-codec.js';
import { FakeSvidIssuer } from '../../fakes/fake-svid-issuer.js';
import { TestJwtAuthority } from '../../support/test-ca.js';
import { id } from './harness.js';

const badResponse = (err: unknown) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_RESPONSE');

describe('proto loading', () => {
  it('finds proto/ by walking up to the package root, and serves the spec paths', () => {
    assert.ok(findProtoDir().endsWith('proto'));
    const { service } = loadWorkloadApiProto();
    assert.equal(service['FetchX509SVID']?.path, '/SpiffeWorkloadAPI/FetchX509SVID');
    assert.equal(service['ValidateJWTSVID']?.path, '/SpiffeWorkloadAPI/ValidateJWTSVID');
    assert.equal(service['FetchJWTBundles']?.responseStream, true);
  });

  it('fails with a code when no ancestor holds the proto', () => {
    assert.throws(
      () => findProtoDir('/'),
      (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_UNAVAILABLE'),
    );
  });
});

describe('endpoint addresses (SPIFFE_ENDPOINT_SOCKET)', () => {
  const good: [string, object][] = [
    ['unix:///run/spire/agent.sock', { kind: 'unix', path: '/run/spire/agent.sock' }],
    ['unix:/run/agent.sock', { kind: 'unix', path: '/run/agent.sock' }],
    ['/run/agent.sock', { kind: 'unix', path: '/run/agent.sock' }],
    ['tcp://127.0.0.1:8081', { kind: 'tcp', host: '127.0.0.1', port: 8081 }],
    ['tcp://[::1]:8081', { kind: 'tcp', host: '::1', port: 8081 }],
  ];
  for (const [input, expected] of good) {
    it(`parses ${input}`, () => assert.deepEqual(parseEndpointAddress(input), expected));
  }
  const bad = [
    '',
    'agent.sock',
    'unix://host/agent.sock',
    'unix:///a.sock?x=1',
    'tcp://localhost:80',
    'tcp://127.0.0.1',
    'http://127.0.0.1:80',
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseEndpointAddress(input),
        (err) => isSpiffeError(err, 'SPIFFE_WORKLOAD_BAD_ARGUMENT'),
      );
    });
  }
});

describe('gRPC status table', () => {
  const table: [SpiffeError['code'], status][] = [
    ['SPIFFE_WORKLOAD_MISSING_HEADER', status.INVALID_ARGUMENT],
    ['SPIFFE_WORKLOAD_NO_IDENTITY', status.PERMISSION_DENIED],
    ['SPIFFE_JWT_EXPIRED', status.INVALID_ARGUMENT],
    ['SPIFFE_BUNDLE_NOT_FOUND', status.INVALID_ARGUMENT],
    ['SPIFFE_ID_BAD_PATH_CHAR', status.INVALID_ARGUMENT],
    ['SPIFFE_CA_KEY_STORE', status.UNAVAILABLE],
    ['SPIFFE_X509_MALFORMED', status.INTERNAL],
  ];
  for (const [code, expected] of table) {
    it(`maps ${code} to ${status[expected]}`, () => assert.equal(grpcStatusFor(code), expected));
  }

  it('maps client-side statuses to SPIFFE_WORKLOAD_* codes', () => {
    const err = (code: status) => Object.assign(new Error('x'), { code, details: 'x', metadata: undefined });
    assert.equal(fromGrpcError(err(status.PERMISSION_DENIED)).code, 'SPIFFE_WORKLOAD_NO_IDENTITY');
    assert.equal(fromGrpcError(err(status.INVALID_ARGUMENT)).code, 'SPIFFE_WORKLOAD_BAD_ARGUMENT');
    assert.equal(fromGrpcError(err(status.DEADLINE_EXCEEDED)).code, 'SPIFFE_WORKLOAD_UNAVAILABLE');
  });
});

describe('google.protobuf.Struct codec', () => {
  it('round-trips JWT claims', () => {
    const claims = {
      sub: 'spiffe://example.org/a',
      aud: ['x', 'y'],
      exp: 1700000000,
      nested: { ok: true, none: null },
    };
    assert.deepEqual(fromStruct(toStruct(claims)), claims);
  });
});

describe('wire codec', () => {
  it('round-trips an X509-SVID and checks it on the way in', async () => {
    const issuer = await FakeSvidIssuer.create();
    const svid = await issuer.mintX509Svid({ id: id('/a'), now: new Date('2025-01-01T00:00:00Z') });
    const decoded = decodeX509Svid(encodeX509Svid({ ...svid, hint: 'h' }, issuer.bundle()));
    assert.ok(decoded.id.equals(id('/a')));
    assert.equal(decoded.hint, 'h');
    assert.deepEqual(decoded.expiresAt, svid.expiresAt);
  });

  it('rejects an X509-SVID whose spiffe_id is not the leaf SAN, or whose key is another', async () => {
    const issuer = await FakeSvidIssuer.create();
    const svid = await issuer.mintX509Svid({ id: id('/a'), now: new Date('2025-01-01T00:00:00Z') });
    const message = encodeX509Svid(svid, issuer.bundle());
    assert.throws(() => decodeX509Svid({ ...message, spiffe_id: id('/b').toString() }), badResponse);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'der',
      type: 'pkcs8',
    });
    assert.throws(() => decodeX509Svid({ ...message, x509_svid_key: otherKey }), badResponse);
    assert.throws(() => decodeX509Svid({ ...message, x509_svid: Buffer.from([0x30, 0x03, 1]) }), badResponse);
  });

  it('reads JWK Sets with or without use, and rejects keys without kid or with private members', () => {
    const authority = new TestJwtAuthority('ES256', 'k1');
    const { use: _use, ...noUse } = authority.jwk as { use?: string };
    const sets = (keys: object[]) => ({ 'spiffe://example.org': Buffer.from(JSON.stringify({ keys })) });
    assert.equal(decodeJwtBundles(sets([noUse]))[0]?.jwtAuthorities.size, 1);
    assert.equal(decodeJwtBundles(sets([{ ...noUse, use: 'x509-svid' }]))[0]?.jwtAuthorities.size, 0);
    assert.throws(() => decodeJwtBundles(sets([{ ...noUse, kid: undefined }])), badResponse);
    assert.throws(() => decodeJwtBundles(sets([{ ...noUse, d: 'secret' }])), badResponse);
    assert.throws(() => decodeJwtBundles({ 'not a td': Buffer.from('{"keys":[]}') }), badResponse);
  });

  it('rejects a JWT-SVID whose subject is not its spiffe_id', () => {
    const token = new TestJwtAuthority().mint({ sub: 'spiffe://example.org/a', aud: ['x'] });
    assert.ok(
      decodeJwtSvid({ spiffe_id: 'spiffe://example.org/a', svid: token, hint: '' }).id.equals(id('/a')),
    );
    assert.throws(
      () => decodeJwtSvid({ spiffe_id: 'spiffe://example.org/b', svid: token, hint: '' }),
      badResponse,
    );
    assert.throws(
      () => decodeJwtSvid({ spiffe_id: 'spiffe://example.org/a', svid: 'garbage', hint: '' }),
      badResponse,
    );
  });
});
