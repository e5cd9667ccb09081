// The broker's own X509-SVID in dev-ca mode: minted, then re-minted at half its lifetime.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createDevCaSvid } from '../../../../broker/api/grpc/dev-ca-svid.js';
import { createDevCa, type DevCa } from '../../../../spiffe/ca/index.js';
import { SpiffeError } from '../../../../spiffe/errors.js';
import { TrustDomain } from '../../../../spiffe/trust-domain.js';
import { FakeClock } from '../../../fakes/fake-clock.js';

const HOUR = 3600_000;

/** Waits (polling) until `cond` holds: mints are asynchronous. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

/** A logger whose lines are kept. */
function recordingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

/** A DevCa whose next mint fails (failure injection). */
function failingOnce(ca: DevCa): DevCa & { failNext(): void } {
  let fail = false;
  return {
    ...ca,
    trustDomain: ca.trustDomain,
    bundle: () => ca.bundle(),
    mintX509Svid: (opts) => {
      if (fail) {
        fail = false;
        return Promise.reject(new SpiffeError('SPIFFE_CA_KEY_STORE'));
      }
      return ca.mintX509Svid(opts);
    },
    failNext: () => {
      fail = true;
    },
  };
}

describe('createDevCaSvid', () => {
  it('mints spiffe://<td>/taskpass/broker with the DNS names asked for', async () => {
    const clock = new FakeClock();
    const ca = await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock });
    const svid = await createDevCaSvid({
      ca,
      clock,
      timers: clock,
      logger: pino({ level: 'silent' }),
      onRotate: () => {},
      dnsNames: ['localhost'],
    });
    assert.equal(svid.current().id.toString(), 'spiffe://taskpass.local/taskpass/broker');
    const san = svid.current().certificates[0]!.getExtension('2.5.29.17');
    assert.ok(san && Buffer.from(san.value).includes(Buffer.from('localhost')));
    svid.stop();
  });

  it('re-mints at half the lifetime and calls onRotate, until stopped', async () => {
    const clock = new FakeClock();
    const ca = await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock });
    let rotations = 0;
    const svid = await createDevCaSvid({
      ca,
      clock,
      timers: clock,
      logger: pino({ level: 'silent' }),
      onRotate: () => rotations++,
    });
    const first = svid.current();
    assert.equal(first.expiresAt.getTime() - clock.now().getTime(), HOUR);
    clock.advance(HOUR / 2 - 1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(rotations, 0);
    assert.equal(svid.current(), first);
    clock.advance(1000);
    await until(() => rotations === 1);
    assert.ok(svid.current().expiresAt > first.expiresAt);
    svid.stop();
    clock.advance(2 * HOUR);
    await new Promise((r) => setImmediate(r));
    assert.equal(rotations, 1);
  });

  it('keeps the current SVID when a re-mint fails and tries again', async () => {
    const clock = new FakeClock();
    const ca = failingOnce(await createDevCa({ trustDomain: TrustDomain.parse('taskpass.local'), clock }));
    let rotations = 0;
    const { logger, lines } = recordingLogger();
    const svid = await createDevCaSvid({ ca, clock, timers: clock, logger, onRotate: () => rotations++ });
    const first = svid.current();
    ca.failNext();
    clock.advance(HOUR / 2);
    await until(() => lines.some((l) => l.includes('broker svid re-mint failed')));
    assert.equal(rotations, 0);
    assert.equal(svid.current(), first);
    clock.advance(30_000);
    await until(() => rotations === 1);
    assert.notEqual(svid.current(), first);
    svid.stop();
  });
});
