import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAEP_EVENT_BASE as C, RISC_EVENT_BASE as R } from '../../../broker/anomaly/set-events.js';
import { signalFromSet } from '../../../broker/anomaly/set-signal.js';
import type { VerifiedSet } from '../../../broker/anomaly/set-verify.js';
import { BrokerError } from '../../../broker/errors.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

const subject = { workload: SpiffeId.parse('spiffe://taskpass.local/agents/a1') };

function verified(
  events: Record<string, Record<string, unknown>>,
  extra: Partial<VerifiedSet> = {},
): VerifiedSet {
  return {
    issuer: SpiffeId.parse('spiffe://taskpass.local/detectors/guard'),
    jti: 'j',
    issuedAt: new Date(0),
    events,
    subject,
    rememberUntil: new Date(0),
    ...extra,
  };
}

describe('signalFromSet: the CAEP / RISC mapping table', () => {
  const rows: { uri: string; payload?: Record<string, unknown>; kind: string; severity: string }[] = [
    { uri: `${C}session-revoked`, kind: 'caep.session_revoked', severity: 'high' },
    {
      uri: `${C}credential-change`,
      payload: { change_type: 'revoke' },
      kind: 'caep.credential_change',
      severity: 'high',
    },
    {
      uri: `${C}credential-change`,
      payload: { change_type: 'delete' },
      kind: 'caep.credential_change',
      severity: 'high',
    },
    {
      uri: `${C}credential-change`,
      payload: { change_type: 'create' },
      kind: 'caep.credential_change',
      severity: 'medium',
    },
    { uri: `${C}token-claims-change`, kind: 'caep.token_claims_change', severity: 'medium' },
    {
      uri: `${C}assurance-level-change`,
      payload: { change_direction: 'decrease' },
      kind: 'caep.assurance_level_change',
      severity: 'medium',
    },
    {
      uri: `${C}assurance-level-change`,
      payload: { change_direction: 'increase' },
      kind: 'caep.assurance_level_change',
      severity: 'low',
    },
    {
      uri: `${C}device-compliance-change`,
      payload: { current_status: 'not-compliant' },
      kind: 'caep.device_compliance_change',
      severity: 'high',
    },
    {
      uri: `${C}device-compliance-change`,
      payload: { current_status: 'compliant' },
      kind: 'caep.device_compliance_change',
      severity: 'low',
    },
    {
      uri: `${C}risk-level-change`,
      payload: { current_level: 'HIGH' },
      kind: 'caep.risk_level_change',
      severity: 'high',
    },
    {
      uri: `${C}risk-level-change`,
      payload: { current_level: 'LOW' },
      kind: 'caep.risk_level_change',
      severity: 'low',
    },
    { uri: `${C}session-established`, kind: 'caep.session_established', severity: 'low' },
    { uri: `${R}credential-compromise`, kind: 'risc.credential_compromise', severity: 'critical' },
    { uri: `${R}account-disabled`, kind: 'risc.account_disabled', severity: 'high' },
    { uri: `${R}account-purged`, kind: 'risc.account_purged', severity: 'high' },
    { uri: `${R}sessions-revoked`, kind: 'risc.sessions_revoked', severity: 'high' },
    {
      uri: `${R}account-credential-change-required`,
      kind: 'risc.account_credential_change_required',
      severity: 'medium',
    },
    { uri: `${R}identifier-changed`, kind: 'risc.identifier_changed', severity: 'low' },
  ];
  for (const row of rows) {
    it(`${row.uri.slice(35)} ${JSON.stringify(row.payload ?? {})} → ${row.kind} (${row.severity})`, () => {
      const s = signalFromSet(verified({ [row.uri]: row.payload ?? {} }));
      assert.deepEqual([s.kind, s.severity], [row.kind, row.severity]);
      assert.equal(s.evidence?.['event'], row.uri);
    });
  }

  it('takes the most severe supported event of several, lists all, ignores unknown ones', () => {
    const s = signalFromSet(
      verified({
        'https://example.com/unknown': {},
        [`${C}token-claims-change`]: {},
        [`${R}credential-compromise`]: {
          reason_admin: { en: 'key found on a paste site' },
          event_timestamp: 1735689000,
        },
      }),
    );
    assert.deepEqual([s.kind, s.severity], ['risc.credential_compromise', 'critical']);
    assert.equal(s.description, 'key found on a paste site');
    assert.equal(s.occurredAt?.toISOString(), '2024-12-31T23:50:00.000Z');
    assert.deepEqual(s.evidence?.['events'], [
      'https://example.com/unknown',
      `${C}token-claims-change`,
      `${R}credential-compromise`,
    ]);
  });

  it('keeps short known claims as evidence and drops others', () => {
    const s = signalFromSet(
      verified({
        [`${C}credential-change`]: {
          change_type: 'revoke',
          credential_type: 'x509',
          secret: 'nope',
          note: 'x'.repeat(200),
        },
      }),
    );
    assert.deepEqual(s.evidence?.['claims'], { change_type: 'revoke', credential_type: 'x509' });
  });

  it('refuses a SET with unknown events only (BROKER_SET_UNSUPPORTED_EVENT)', () => {
    assert.throws(
      () =>
        signalFromSet(
          verified({ 'https://schemas.openid.net/secevent/risc/event-type/opt-out-initiated': {} }),
        ),
      (err: unknown) => err instanceof BrokerError && err.code === 'BROKER_SET_UNSUPPORTED_EVENT',
    );
  });
});
