import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateAwsError } from '../../../adapters/aws-sts/aws-errors.js';
import { BrokerError } from '../../../broker/errors.js';

/** An error shaped as the AWS SDK v3 throws them (service errors carry `$metadata` and `$fault`). */
function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  const err = new Error('message from aws that must not be copied');
  return Object.assign(err, {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra,
  });
}

describe('aws-sts error translation', () => {
  const cases: [string, Error, string][] = [
    ['Throttling', sdkError('Throttling', 400, { $fault: 'client' }), 'BROKER_ADAPTER_BACKEND_THROTTLED'],
    ['a 429', sdkError('TooManyRequests', 429), 'BROKER_ADAPTER_BACKEND_THROTTLED'],
    ['AccessDenied', sdkError('AccessDenied', 403), 'BROKER_ADAPTER_BACKEND_DENIED'],
    ['InvalidClientTokenId', sdkError('InvalidClientTokenId', 403), 'BROKER_ADAPTER_BACKEND_DENIED'],
    ['ExpiredTokenException', sdkError('ExpiredTokenException', 400), 'BROKER_ADAPTER_BACKEND_DENIED'],
    [
      'InvalidIdentityTokenException',
      sdkError('InvalidIdentityTokenException', 400),
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    [
      'IDPRejectedClaimException',
      sdkError('IDPRejectedClaimException', 403),
      'BROKER_ADAPTER_BACKEND_DENIED',
    ],
    ['no credentials in the chain', sdkError('CredentialsProviderError'), 'BROKER_ADAPTER_BACKEND_DENIED'],
    [
      'PackedPolicyTooLargeException',
      sdkError('PackedPolicyTooLargeException', 400),
      'BROKER_ADAPTER_BAD_REQUEST',
    ],
    ['MalformedPolicyDocument', sdkError('MalformedPolicyDocument', 400), 'BROKER_ADAPTER_BAD_REQUEST'],
    [
      'ValidationError (duration over the role maximum)',
      sdkError('ValidationError', 400),
      'BROKER_ADAPTER_BAD_REQUEST',
    ],
    [
      'IDPCommunicationErrorException',
      sdkError('IDPCommunicationErrorException', 400),
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'a 503',
      sdkError('ServiceUnavailable', 503, { $fault: 'server' }),
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'a refused connection',
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    [
      'a request timeout',
      sdkError('TimeoutError', undefined, { code: 'ETIMEDOUT' }),
      'BROKER_ADAPTER_BACKEND_UNAVAILABLE',
    ],
    ['an abort', sdkError('AbortError'), 'BROKER_ADAPTER_BACKEND_UNAVAILABLE'],
    ['RegionDisabledException', sdkError('RegionDisabledException', 403), 'BROKER_ADAPTER_BACKEND_REJECTED'],
    ['NoSuchEntityException', sdkError('NoSuchEntityException', 404), 'BROKER_ADAPTER_BACKEND_REJECTED'],
    ['LimitExceededException', sdkError('LimitExceededException', 409), 'BROKER_ADAPTER_BACKEND_REJECTED'],
  ];
  for (const [name, err, code] of cases) {
    it(`${name} → ${code}`, () => {
      const translated = translateAwsError(err, 'sts:AssumeRole');
      assert.equal(translated.code, code);
      assert.equal(translated.cause, err);
      assert.ok(translated.message.includes('sts:AssumeRole'));
      assert.ok(!translated.message.includes('must not be copied'));
    });
  }

  it('passes a broker error through unchanged', () => {
    const err = new BrokerError('BROKER_ADAPTER_BAD_CONFIG', 'x');
    assert.equal(translateAwsError(err, 'iam:GetRolePolicy'), err);
  });
});
