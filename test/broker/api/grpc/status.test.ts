// The one table from taskpass error codes to gRPC status codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA, grpcStatusOf, toGrpcError } from '../../../../broker/api/grpc/status.js';
import { BROKER_ERROR_CODES, BrokerError } from '../../../../broker/errors.js';
import { SPIFFE_ERROR_CODES, SpiffeError } from '../../../../spiffe/errors.js';

describe('grpcStatusOf', () => {
  const cases: readonly [code: string, expected: status][] = [
    ['BROKER_INPUT_INVALID', status.INVALID_ARGUMENT],
    ['BROKER_LEDGER_BAD_CURSOR', status.INVALID_ARGUMENT],
    ['BROKER_ADAPTER_UNKNOWN_PROVIDER', status.INVALID_ARGUMENT],
    ['SPIFFE_ID_DOT_SEGMENT', status.INVALID_ARGUMENT],
    ['BROKER_AUTH_MISSING', status.UNAUTHENTICATED],
    ['BROKER_AUTH_INVALID', status.UNAUTHENTICATED],
    ['BROKER_ISSUANCE_SVID_EXPIRED', status.UNAUTHENTICATED],
    ['SPIFFE_JWT_EXPIRED', status.UNAUTHENTICATED],
    ['BROKER_POLICY_DENIED', status.PERMISSION_DENIED],
    ['SPIFFE_MATCH_UNEXPECTED_ID', status.PERMISSION_DENIED],
    ['BROKER_TASK_NOT_FOUND', status.NOT_FOUND],
    ['BROKER_TASK_ALREADY_ENDED', status.FAILED_PRECONDITION],
    ['BROKER_ISSUANCE_TASK_EXPIRED', status.FAILED_PRECONDITION],
    ['BROKER_STORE_CONFLICT', status.ALREADY_EXISTS],
    ['BROKER_POLICY_QUOTA_EXCEEDED', status.RESOURCE_EXHAUSTED],
    ['BROKER_POLICY_RATE_LIMITED', status.RESOURCE_EXHAUSTED],
    ['BROKER_STORE_UNAVAILABLE', status.UNAVAILABLE],
    ['BROKER_ADAPTER_BACKEND_UNAVAILABLE', status.UNAVAILABLE],
    ['BROKER_GRPC_SHUTTING_DOWN', status.UNAVAILABLE],
    ['BROKER_GRPC_UNIMPLEMENTED', status.UNIMPLEMENTED],
    ['BROKER_STORE_QUERY_FAILED', status.INTERNAL],
    ['BROKER_INTERNAL', status.INTERNAL],
    ['NOT_A_CODE', status.INTERNAL],
  ];
  for (const [code, expected] of cases) {
    it(`maps ${code} to ${status[expected]}`, () => assert.equal(grpcStatusOf(code), expected));
  }

  it('gives every catalog code a status that is neither OK nor UNKNOWN', () => {
    for (const code of [...Object.keys(BROKER_ERROR_CODES), ...Object.keys(SPIFFE_ERROR_CODES)]) {
      const s = grpcStatusOf(code);
      assert.ok(s !== status.OK && s !== status.UNKNOWN, code);
    }
  });
});

describe('toGrpcError', () => {
  it('puts the stable code in the taskpass-error-code trailer and the message in the details', () => {
    const view = toGrpcError(new BrokerError('BROKER_TASK_NOT_FOUND', 'abc'));
    assert.equal(view.status.code, status.NOT_FOUND);
    assert.equal(view.status.details, 'task not found or not authorized: abc');
    assert.deepEqual(view.status.metadata.get(ERROR_CODE_METADATA), ['BROKER_TASK_NOT_FOUND']);
    assert.equal(view.internal, false);
  });

  it('keeps the SPIFFE code of a SpiffeError', () => {
    const view = toGrpcError(new SpiffeError('SPIFFE_ID_EMPTY'));
    assert.equal(view.status.code, status.INVALID_ARGUMENT);
    assert.deepEqual(view.status.metadata.get(ERROR_CODE_METADATA), ['SPIFFE_ID_EMPTY']);
  });

  it('answers a foreign error INTERNAL / BROKER_INTERNAL without its message', () => {
    const view = toGrpcError(new Error('connection to 10.0.0.7 failed, password=hunter2'));
    assert.equal(view.status.code, status.INTERNAL);
    assert.equal(view.code, 'BROKER_INTERNAL');
    assert.equal(view.status.details, 'internal error');
    assert.equal(view.internal, true);
  });

  it('gives only the catalog message of a failure on our side, never its detail', () => {
    const view = toGrpcError(new BrokerError('BROKER_STORE_QUERY_FAILED', 'relation "tasks" does not exist'));
    assert.equal(view.status.details, BROKER_ERROR_CODES.BROKER_STORE_QUERY_FAILED.message);
    assert.equal(view.internal, true);
  });
});
