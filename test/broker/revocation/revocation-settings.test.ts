import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigInvalidError, parseConfig } from '../../../broker/config.js';
import {
  DEFAULT_REVOCATION_SETTINGS,
  parseRevocationSettings,
} from '../../../broker/revocation/revocation-settings.js';

describe('parseRevocationSettings', () => {
  it('applies the defaults without a section', () => {
    const problems: string[] = [];
    assert.deepEqual(parseRevocationSettings(undefined, {}, problems), DEFAULT_REVOCATION_SETTINGS);
    assert.deepEqual(parseRevocationSettings(null, {}, problems), DEFAULT_REVOCATION_SETTINGS);
    assert.deepEqual(problems, []);
  });

  it('reads durations and the budget, the environment winning', () => {
    const problems: string[] = [];
    const s = parseRevocationSettings(
      {
        max_attempts: 4,
        base_backoff: '2s',
        max_backoff: '1m',
        failed_retry_interval: '30m',
        lease: '2m',
        attempt_timeout: '30s',
        await: '1s',
        poll_interval: '5s',
      },
      { TASKPASS_REVOCATION_MAX_ATTEMPTS: '12' },
      problems,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      [
        s.maxAttempts,
        s.baseBackoffMs,
        s.maxBackoffMs,
        s.failedRetryMs,
        s.leaseMs,
        s.attemptTimeoutMs,
        s.awaitMs,
        s.intervalMs,
      ],
      [12, 2000, 60_000, 1_800_000, 120_000, 30_000, 1000, 5000],
    );
  });

  const invalid: [string, unknown, Record<string, string>, string][] = [
    ['not a mapping', 'fast', {}, 'revocation: must be a mapping'],
    ['unknown key', { retries: 3 }, {}, 'revocation.retries: unknown setting'],
    ['budget zero', { max_attempts: 0 }, {}, 'revocation.max_attempts'],
    [
      'budget from env not a number',
      {},
      { TASKPASS_REVOCATION_MAX_ATTEMPTS: 'many' },
      'revocation.max_attempts',
    ],
    ['bad duration', { lease: 'soon' }, {}, 'revocation.lease'],
    ['max below base', { base_backoff: '10s', max_backoff: '1s' }, {}, 'revocation.max_backoff'],
    [
      'timeout not below the lease',
      { lease: '10s', attempt_timeout: '10s' },
      {},
      'revocation.attempt_timeout',
    ],
  ];
  for (const [name, section, env, problem] of invalid) {
    it(`reports ${name}`, () => {
      const problems: string[] = [];
      parseRevocationSettings(section, env, problems);
      assert.ok(
        problems.some((p) => p.startsWith(problem)),
        JSON.stringify(problems),
      );
    });
  }

  it('is the config file section `revocation`, refused with every other problem', () => {
    const config = parseConfig({ env: {}, cwd: '/srv', file: { revocation: { max_attempts: 3 } } });
    assert.equal(config.revocation.maxAttempts, 3);
    assert.throws(
      () => parseConfig({ env: {}, cwd: '/srv', file: { revocation: { lease: 'x' }, bogus: 1 } }),
      (err) => err instanceof ConfigInvalidError && err.problems.length === 2,
    );
  });
});
