// Shared set-up of the X509-SVID suites: one PKI minted per suite at a fixed instant.
import assert from 'node:assert/strict';
import { isSpiffeError, type SpiffeErrorCode } from '../../spiffe/errors.js';
import type { BundleSource } from '../../spiffe/bundle.js';
import { x509 } from '../../spiffe/internal/x509.js';
import { staticSource, TestCa, testBundle } from '../support/test-ca.js';

export const NOW = new Date('2031-05-01T12:00:00Z');
export const HOUR = 3_600_000;
export const KU = x509.KeyUsageFlags;

export interface Fixture {
  root: TestCa;
  inter: TestCa;
  inter2: TestCa;
  rsaRoot: TestCa;
  p384Root: TestCa;
  foreign: TestCa;
  source: BundleSource;
}

export async function fixture(): Promise<Fixture> {
  const root = await TestCa.root('example.org', { now: NOW });
  const inter = await root.intermediate();
  const inter2 = await inter.intermediate();
  const rsaRoot = await TestCa.root('example.org', { now: NOW, keyType: 'rsa-2048' });
  const p384Root = await TestCa.root('example.org', { now: NOW, keyType: 'ec-p384' });
  const foreign = await TestCa.root('other.org', { now: NOW });
  const source = staticSource(
    testBundle('example.org', { roots: [root.cert, rsaRoot.cert, p384Root.cert] }),
    testBundle('other.org', { roots: [foreign.cert] }),
  );
  return { root, inter, inter2, rsaRoot, p384Root, foreign, source };
}

/** Asserts that `promise` rejects with a SpiffeError of `code`. */
export async function rejects(promise: Promise<unknown>, code: SpiffeErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isSpiffeError(err), `expected a SpiffeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Asserts that `fn` throws a SpiffeError of `code`. */
export function throwsCode(fn: () => unknown, code: SpiffeErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isSpiffeError(err), `expected a SpiffeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}
