import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideResponse, DEFAULT_ANOMALY_POLICY } from '../../../broker/anomaly/anomaly-policy.js';
import type { Severity } from '../../../broker/anomaly/signal.js';
import { parsePolicy } from '../../../broker/policy/load-policy.js';
import { PolicyInvalidError } from '../../../broker/policy/policy-error.js';
import { baseDocument } from '../policy/policy-fixtures.js';

const json = (doc: unknown): string => JSON.stringify(doc, null, 2);
const withSection = (section: unknown): string =>
  json(baseDocument(undefined, { anomaly_responses: section }));

function issuesOf(source: string): string[] {
  try {
    parsePolicy(source);
  } catch (err) {
    assert.ok(err instanceof PolicyInvalidError);
    return err.issues.map((i) => `${i.path} ${i.kind}`).sort();
  }
  assert.fail('the policy was accepted');
}

const SECTION = {
  default: 'record_only',
  rules: [
    { name: 'compromise', kinds: ['risc.credential_compromise'], response: 'quarantine_workload' },
    { name: 'severe-caep', kinds: ['caep.*'], min_severity: 'high', response: 'revoke_task' },
    {
      name: 'injection',
      kinds: ['prompt_injection', 'guardrail.*'],
      min_severity: 'medium',
      response: 'revoke_task',
    },
    { name: 'anything-critical', kinds: ['*'], min_severity: 'critical', response: 'quarantine_workload' },
  ],
  detectors: {
    issuance_burst: { threshold: 3, window: '30s', cooldown: '2m', severity: 'high' },
    svid_replay: { enabled: false },
  },
  set_max_age: '2m',
};

describe('anomaly_responses in the policy', () => {
  it('defaults to record_only, every detector on, SETs up to 10 minutes old', () => {
    const p = parsePolicy(json(baseDocument()));
    assert.deepEqual(p.anomaly, DEFAULT_ANOMALY_POLICY);
    assert.equal(p.anomaly.detectors.ended_task_request.enabled, true);
  });

  it('reads rules, detectors and set_max_age', () => {
    const a = parsePolicy(withSection(SECTION)).anomaly;
    assert.deepEqual(
      a.rules.map((r) => [r.name, r.minSeverity, r.response]),
      [
        ['compromise', 'low', 'quarantine_workload'],
        ['severe-caep', 'high', 'revoke_task'],
        ['injection', 'medium', 'revoke_task'],
        ['anything-critical', 'critical', 'quarantine_workload'],
      ],
    );
    assert.deepEqual(a.detectors.issuance_burst, {
      enabled: true,
      severity: 'high',
      threshold: 3,
      windowSeconds: 30,
      cooldownSeconds: 120,
    });
    assert.equal(a.detectors.svid_replay.enabled, false);
    assert.equal(
      a.detectors.out_of_manifest.threshold,
      DEFAULT_ANOMALY_POLICY.detectors.out_of_manifest.threshold,
    );
    assert.equal(a.setMaxAgeSeconds, 120);
  });

  const decisions: { kind: string; severity: Severity; response: string; rule: string }[] = [
    {
      kind: 'risc.credential_compromise',
      severity: 'low',
      response: 'quarantine_workload',
      rule: 'compromise',
    },
    { kind: 'caep.session_revoked', severity: 'high', response: 'revoke_task', rule: 'severe-caep' },
    { kind: 'caep.session_revoked', severity: 'medium', response: 'record_only', rule: 'default' },
    { kind: 'guardrail.pii', severity: 'medium', response: 'revoke_task', rule: 'injection' },
    { kind: 'guardrail.pii', severity: 'low', response: 'record_only', rule: 'default' },
    { kind: 'prompt_injection_x', severity: 'high', response: 'record_only', rule: 'default' },
    { kind: 'caep.credential_change', severity: 'critical', response: 'revoke_task', rule: 'severe-caep' },
    { kind: 'odd.kind', severity: 'critical', response: 'quarantine_workload', rule: 'anything-critical' },
  ];
  const policy = parsePolicy(withSection(SECTION)).anomaly;
  for (const d of decisions) {
    it(`first match wins: ${d.kind} (${d.severity}) → ${d.response} by ${d.rule}`, () => {
      assert.deepEqual(decideResponse(policy, d.kind, d.severity), { response: d.response, rule: d.rule });
    });
  }

  it('lists EVERY problem of the section with its location', () => {
    const issues = issuesOf(
      withSection({
        default: 'ignore',
        rules: [
          { name: 'Bad Name', kinds: ['caep*x', 'UPPER'], min_severity: 'severe', response: 'nuke' },
          { kinds: [], extra: 1 },
          { name: 'default', kinds: ['a'], response: 'record_only' },
        ],
        detectors: {
          issuance_burst: { threshold: 0, window: 'soon', severity: 'huge', enabled: 'yes' },
          out_of_manifest: { cooldown: '2d' },
          made_up: {},
        },
        set_max_age: -5,
        colour: 'red',
      }),
    );
    assert.deepEqual(issues, [
      'anomaly_responses.colour unknown_key',
      'anomaly_responses.default bad_value',
      'anomaly_responses.detectors.issuance_burst.enabled type',
      'anomaly_responses.detectors.issuance_burst.severity bad_value',
      'anomaly_responses.detectors.issuance_burst.threshold bad_number',
      'anomaly_responses.detectors.issuance_burst.window bad_duration',
      'anomaly_responses.detectors.made_up unknown_key',
      'anomaly_responses.detectors.out_of_manifest.cooldown bad_duration',
      'anomaly_responses.rules[0].kinds[0] bad_kind',
      'anomaly_responses.rules[0].kinds[1] bad_kind',
      'anomaly_responses.rules[0].min_severity bad_value',
      'anomaly_responses.rules[0].name bad_name',
      'anomaly_responses.rules[0].response bad_value',
      'anomaly_responses.rules[1].extra unknown_key',
      'anomaly_responses.rules[1].kinds empty',
      'anomaly_responses.rules[1].name required',
      'anomaly_responses.rules[1].response required',
      'anomaly_responses.rules[2].name duplicate',
      'anomaly_responses.set_max_age bad_duration',
    ]);
  });

  it('refuses a section that is not a mapping', () => {
    assert.deepEqual(issuesOf(withSection(['revoke_task'])), ['anomaly_responses type']);
  });
});
