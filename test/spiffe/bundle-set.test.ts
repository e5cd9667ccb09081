import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BundleSet } from '../../spiffe/bundle-set.js';
import { SpiffeBundle, type BundleSource } from '../../spiffe/bundle.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';

const a = TrustDomain.parse('a.example');
const b = TrustDomain.parse('b.example');
const bundle = (td: TrustDomain, sequenceNumber = 1): SpiffeBundle =>
  new SpiffeBundle({ trustDomain: td, sequenceNumber });

describe('BundleSet', () => {
  it('gives the bundle of each trust domain it holds', () => {
    const set = new BundleSet([bundle(a), bundle(b, 2)]);
    assert.equal(set.getBundleForTrustDomain(a).trustDomain.equals(a), true);
    assert.equal(set.getBundleForTrustDomain(b).sequenceNumber, 2);
    assert.equal(set.size, 2);
  });

  it('looks up by trust domain value, not by object identity', () => {
    const set = new BundleSet([bundle(a)]);
    assert.equal(set.has(TrustDomain.parse('spiffe://a.example/x')), true);
  });

  it('throws SPIFFE_BUNDLE_NOT_FOUND for a trust domain it does not hold', () => {
    const set = new BundleSet([bundle(a)]);
    assert.throws(() => set.getBundleForTrustDomain(b), { code: 'SPIFFE_BUNDLE_NOT_FOUND' });
    assert.equal(set.get(b), undefined);
  });

  it('replaces the bundle of a trust domain on add', () => {
    const set = new BundleSet([bundle(a, 1)]);
    set.add(bundle(a, 2));
    assert.equal(set.getBundleForTrustDomain(a).sequenceNumber, 2);
    assert.equal(set.size, 1);
  });

  it('keeps the last of two bundles of one trust domain given to the constructor', () => {
    assert.equal(new BundleSet([bundle(a, 1), bundle(a, 5)]).get(a)?.sequenceNumber, 5);
  });

  it('removes a bundle, after which lookups fail', () => {
    const set = new BundleSet([bundle(a), bundle(b)]);
    assert.equal(set.remove(a), true);
    assert.equal(set.remove(a), false);
    assert.throws(() => set.getBundleForTrustDomain(a), { code: 'SPIFFE_BUNDLE_NOT_FOUND' });
    assert.equal(set.has(b), true);
  });

  it('lists its bundles ordered by trust domain name, as a snapshot', () => {
    const set = new BundleSet([bundle(b), bundle(a)]);
    const listed = set.bundles();
    assert.deepEqual(
      listed.map((x) => x.trustDomain.name),
      ['a.example', 'b.example'],
    );
    set.remove(a);
    assert.equal(listed.length, 2);
  });

  it('serves as a BundleSource', () => {
    const source: BundleSource = new BundleSet([bundle(a)]);
    assert.equal(source.getBundleForTrustDomain(a).trustDomain.name, 'a.example');
  });

  it('starts empty', () => {
    const set = new BundleSet();
    assert.equal(set.size, 0);
    assert.deepEqual(set.bundles(), []);
  });
});
