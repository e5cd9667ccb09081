import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationSeconds } from '../../../broker/domain/duration.js';
import { BrokerError } from '../../../broker/errors.js';

describe('parseDurationSeconds', () => {
  const valid: Array<[string, number]> = [
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5400],
    ['2d', 172800],
    ['1d2h3m4s', 93784],
    [' 10m ', 600],
  ];
  for (const [input, seconds] of valid) {
    it(`reads ${JSON.stringify(input)} as ${seconds} s`, () => {
      assert.equal(parseDurationSeconds(input), seconds);
    });
  }

  const invalid = ['', '0', '0s', '-5m', '1.5h', '5x', 'm', '30m1h', '1h1h', '367d', '5 m', 'PT5M'];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)} with BROKER_INPUT_BAD_DURATION`, () => {
      assert.throws(
        () => parseDurationSeconds(input),
        (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_INPUT_BAD_DURATION',
      );
    });
  }
});
