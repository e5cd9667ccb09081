import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROKER_ERROR_CODES, BrokerError, type BrokerErrorCode } from '../../../../broker/errors.js';
import { SPIFFE_ERROR_CODES, SpiffeError, type SpiffeErrorCode } from '../../../../spiffe/errors.js';
import { describeError, httpStatusOf, SPIFFE_HTTP_STATUS } from '../../../../broker/api/http/error-status.js';
import { bearer, harness, type Harness } from './fakes.js';

describe('error mapping: every port error code reaches the client with its table status', () => {
  let h: Harness;
  before(() => {
    h = harness();
  });
  after(() => h.app.close());

  async function answerTo(
    err: Error,
  ): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
    const task = h.fake.seedTask();
    h.fake.failNextWith('tasks.get', err);
    const res = await h.app.inject({ method: 'GET', url: `/v1/tasks/${task.id}`, headers: bearer() });
    return { status: res.statusCode, body: res.json() };
  }

  for (const code of Object.keys(BROKER_ERROR_CODES) as BrokerErrorCode[]) {
    it(`${code} → ${BROKER_ERROR_CODES[code].http}`, async () => {
      const { status, body } = await answerTo(new BrokerError(code, 'some detail'));
      assert.equal(status, BROKER_ERROR_CODES[code].http);
      assert.equal(body.error.code, code);
      // Details reach the caller on 4xx only; a 5xx shows the catalog message.
      assert.equal(body.error.message.includes('some detail'), status < 500);
    });
  }

  for (const code of Object.keys(SPIFFE_ERROR_CODES) as SpiffeErrorCode[]) {
    it(`${code} → ${SPIFFE_HTTP_STATUS[code]}`, async () => {
      const { status, body } = await answerTo(new SpiffeError(code));
      assert.equal(status, SPIFFE_HTTP_STATUS[code]);
      assert.equal(body.error.code, code);
    });
  }
});

describe('the status table', () => {
  it('maps every JWT-SVID and X509-SVID rejection to 401', () => {
    const auth = Object.keys(SPIFFE_ERROR_CODES).filter((c) => /^SPIFFE_(JWT|X509)_/.test(c));
    assert.ok(auth.length > 20);
    for (const code of auth) assert.equal(httpStatusOf(code), 401, code);
  });

  it('answers an unknown code and a foreign error as a 500 BROKER_INTERNAL', () => {
    assert.equal(httpStatusOf('NOT_A_CODE'), 500);
    assert.deepEqual(describeError(new TypeError('x is undefined at secret.ts:12')), {
      status: 500,
      code: 'BROKER_INTERNAL',
      message: 'internal error',
    });
    assert.equal(describeError('a thrown string').code, 'BROKER_INTERNAL');
  });
});
