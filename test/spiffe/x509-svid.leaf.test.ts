import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkLeafRules, verifyX509Svid } from '../../spiffe/x509-svid.js';
import { isSpiffeError, type SpiffeErrorCode } from '../../spiffe/errors.js';
import type { LeafKnobs } from '../support/test-ca.js';
import { fixture, KU, NOW, rejects, throwsCode, type Fixture } from './x509-fixture.js';

// X509-SVID spec §2 (one URI SAN), §3.1 and §5.2 (leaf, non-root path), §4.1 (cA false), §4.3 (key usage).
const invalidLeaves: {
  name: string;
  knobs: LeafKnobs;
  code: SpiffeErrorCode;
  causeCode?: SpiffeErrorCode;
}[] = [
  { name: 'rejects a leaf without a URI SAN', knobs: { uris: [] }, code: 'SPIFFE_X509_NO_URI_SAN' },
  {
    name: 'rejects a leaf with only DNS SANs',
    knobs: { uris: [], dnsNames: ['svc.example.org'] },
    code: 'SPIFFE_X509_NO_URI_SAN',
  },
  {
    name: 'rejects a leaf with two URI SANs',
    knobs: { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] },
    code: 'SPIFFE_X509_MULTIPLE_URI_SANS',
  },
  {
    name: 'rejects a leaf with a SPIFFE and a non-SPIFFE URI SAN',
    knobs: { uris: ['spiffe://example.org/a', 'https://example.org/a'] },
    code: 'SPIFFE_X509_MULTIPLE_URI_SANS',
  },
  {
    name: 'rejects a leaf whose URI SAN is not a SPIFFE ID',
    knobs: { uris: ['https://example.org/workload'] },
    code: 'SPIFFE_X509_BAD_SPIFFE_ID',
    causeCode: 'SPIFFE_ID_WRONG_SCHEME',
  },
  {
    name: 'rejects a leaf whose SPIFFE ID breaks a path rule',
    knobs: { uris: ['spiffe://example.org/a/../b'] },
    code: 'SPIFFE_X509_BAD_SPIFFE_ID',
    causeCode: 'SPIFFE_ID_DOT_SEGMENT',
  },
  {
    name: 'rejects a leaf whose SPIFFE ID has an uppercase trust domain',
    knobs: { uris: ['spiffe://Example.org/workload'] },
    code: 'SPIFFE_X509_BAD_SPIFFE_ID',
    causeCode: 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
  },
  {
    name: 'rejects a leaf holding the ID of the trust domain itself (no path)',
    knobs: { uris: ['spiffe://example.org'] },
    code: 'SPIFFE_X509_BAD_SPIFFE_ID',
  },
  { name: 'rejects a leaf that is a CA', knobs: { isCa: true }, code: 'SPIFFE_X509_LEAF_IS_CA' },
  {
    name: 'rejects a leaf with keyCertSign',
    knobs: { keyUsage: KU.digitalSignature | KU.keyCertSign },
    code: 'SPIFFE_X509_LEAF_KEY_CERT_SIGN',
  },
  {
    name: 'rejects a leaf with cRLSign',
    knobs: { keyUsage: KU.digitalSignature | KU.cRLSign },
    code: 'SPIFFE_X509_LEAF_CRL_SIGN',
  },
  {
    name: 'rejects a leaf without digitalSignature',
    knobs: { keyUsage: KU.keyEncipherment },
    code: 'SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE',
  },
  {
    name: 'rejects a leaf without a keyUsage extension',
    knobs: { keyUsage: null },
    code: 'SPIFFE_X509_LEAF_NO_DIGITAL_SIGNATURE',
  },
];

describe('checkLeafRules', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });

  it('returns the SPIFFE ID of a conforming leaf', async () => {
    const leaf = await f.root.leaf({ id: 'spiffe://example.org/ns/prod/sa/agent' });
    assert.equal(checkLeafRules(leaf.cert).toString(), 'spiffe://example.org/ns/prod/sa/agent');
  });

  it('accepts a leaf without basicConstraints (cA defaults to false)', async () => {
    const leaf = await f.root.leaf({ isCa: null });
    assert.equal(checkLeafRules(leaf.cert).toString(), 'spiffe://example.org/workload');
  });

  it('accepts a leaf with only digitalSignature', async () => {
    const leaf = await f.root.leaf({ keyUsage: KU.digitalSignature });
    assert.equal(checkLeafRules(leaf.cert).path, '/workload');
  });

  for (const c of invalidLeaves) {
    it(c.name, async () => {
      const leaf = await f.root.leaf(c.knobs);
      throwsCode(() => checkLeafRules(leaf.cert), c.code);
      if (c.causeCode !== undefined) {
        try {
          checkLeafRules(leaf.cert);
        } catch (err) {
          assert.ok(isSpiffeError(err) && isSpiffeError(err.cause, c.causeCode), `cause is ${c.causeCode}`);
        }
      }
    });
  }
});

describe('verifyX509Svid: leaf rules come first', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });

  for (const c of invalidLeaves) {
    it(`${c.name}, even when the chain is otherwise valid`, async () => {
      const leaf = await f.inter.leaf(c.knobs);
      await rejects(verifyX509Svid(leaf.chain, f.source, { now: NOW }), c.code);
    });
  }

  it('rejects a leaf-rule violation before looking at the chain', async () => {
    const leaf = await f.root.leaf({ isCa: true, selfSigned: true, notAfter: new Date(NOW.getTime() - 1) });
    await rejects(verifyX509Svid([leaf.cert], f.source, { now: NOW }), 'SPIFFE_X509_LEAF_IS_CA');
  });
});
