import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAndVerifyX509Svid, verifyX509Svid } from '../../spiffe/x509-svid.js';
import type { Certificate } from '../../spiffe/bundle.js';
import { encodeCertificatesDer, encodeCertificatesPem } from '../../spiffe/pem.js';
import { spiffeIdLiteral } from '../support/test-ca.js';
import { fixture, NOW, rejects, type Fixture } from './x509-fixture.js';

describe('verifyX509Svid: valid chains', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });

  const cases: {
    name: string;
    chain: (f: Fixture) => Promise<{ chain: Certificate[]; path: Certificate[] }>;
  }[] = [
    {
      name: 'accepts a leaf signed directly by a root (EC P-256)',
      chain: async ({ root }) => {
        const leaf = await root.leaf();
        return { chain: leaf.chain, path: [leaf.cert, root.cert] };
      },
    },
    {
      name: 'accepts a leaf under one intermediate',
      chain: async ({ root, inter }) => {
        const leaf = await inter.leaf();
        return { chain: leaf.chain, path: [leaf.cert, inter.cert, root.cert] };
      },
    },
    {
      name: 'accepts two intermediates presented in order',
      chain: async ({ root, inter, inter2 }) => {
        const leaf = await inter2.leaf();
        return { chain: leaf.chain, path: [leaf.cert, inter2.cert, inter.cert, root.cert] };
      },
    },
    {
      name: 'accepts intermediates presented in shuffled order',
      chain: async ({ root, inter, inter2 }) => {
        const leaf = await inter2.leaf();
        return {
          chain: [leaf.cert, inter.cert, inter2.cert],
          path: [leaf.cert, inter2.cert, inter.cert, root.cert],
        };
      },
    },
    {
      name: 'accepts a chain that also carries the root and an unrelated certificate',
      chain: async ({ root, inter, foreign }) => {
        const leaf = await inter.leaf();
        return {
          chain: [leaf.cert, root.cert, foreign.cert, inter.cert],
          path: [leaf.cert, inter.cert, root.cert],
        };
      },
    },
    {
      name: 'accepts an RSA root and RSA leaf',
      chain: async ({ rsaRoot }) => {
        const leaf = await rsaRoot.leaf({ keyType: 'rsa-2048' });
        return { chain: leaf.chain, path: [leaf.cert, rsaRoot.cert] };
      },
    },
    {
      name: 'accepts an EC intermediate under an RSA root',
      chain: async ({ rsaRoot }) => {
        const inter = await rsaRoot.intermediate();
        const leaf = await inter.leaf();
        return { chain: leaf.chain, path: [leaf.cert, inter.cert, rsaRoot.cert] };
      },
    },
    {
      name: 'accepts a P-384 hierarchy',
      chain: async ({ p384Root }) => {
        const leaf = await p384Root.leaf({ keyType: 'ec-p384' });
        return { chain: leaf.chain, path: [leaf.cert, p384Root.cert] };
      },
    },
    {
      name: 'accepts DNS SANs beside the one URI SAN (X509-SVID §2)',
      chain: async ({ root }) => {
        const leaf = await root.leaf({ dnsNames: ['svc.example.org'] });
        return { chain: leaf.chain, path: [leaf.cert, root.cert] };
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { chain, path } = await c.chain(f);
      const svid = await verifyX509Svid(chain, f.source, { now: NOW });
      assert.ok(svid.id.equals(spiffeIdLiteral('spiffe://example.org/workload')));
      assert.equal(svid.leaf, chain[0]);
      assert.deepEqual(svid.verifiedChain, path);
      const minNotAfter = Math.min(...path.map((cert) => cert.notAfter.getTime()));
      assert.equal(svid.expiresAt.getTime(), minNotAfter);
    });
  }

  it('accepts the exact notAfter instant and rejects the next millisecond', async () => {
    const leaf = await f.root.leaf();
    const at = leaf.cert.notAfter;
    const svid = await verifyX509Svid(leaf.chain, f.source, { now: at });
    assert.equal(svid.expiresAt.getTime(), at.getTime());
    await rejects(
      verifyX509Svid(leaf.chain, f.source, { now: new Date(at.getTime() + 1) }),
      'SPIFFE_X509_EXPIRED',
    );
  });

  it('reports the earliest notAfter of the path as expiresAt', async () => {
    const shortInter = await f.root.intermediate({ notAfter: new Date(NOW.getTime() + 10 * 60_000) });
    const leaf = await shortInter.leaf();
    const svid = await verifyX509Svid(leaf.chain, f.source, { now: NOW });
    assert.equal(svid.expiresAt.getTime(), shortInter.cert.notAfter.getTime());
  });
});

describe('parseAndVerifyX509Svid', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });

  it('accepts PEM text, concatenated DER and one DER buffer per certificate', async () => {
    const leaf = await f.inter.leaf();
    const inputs = [
      encodeCertificatesPem(leaf.chain),
      encodeCertificatesDer(leaf.chain),
      leaf.chain.map((c) => new Uint8Array(c.rawData)),
    ];
    for (const input of inputs) {
      const svid = await parseAndVerifyX509Svid(input, f.source, { now: NOW });
      assert.equal(svid.id.toString(), 'spiffe://example.org/workload');
      assert.equal(svid.verifiedChain.length, 3);
    }
  });

  it('rejects garbage as malformed', async () => {
    await rejects(
      parseAndVerifyX509Svid('not a certificate', f.source, { now: NOW }),
      'SPIFFE_X509_MALFORMED',
    );
    await rejects(
      parseAndVerifyX509Svid([new Uint8Array([0x30, 0x03, 1, 2, 3])], f.source, { now: NOW }),
      'SPIFFE_X509_MALFORMED',
    );
  });

  it('rejects an empty input as an empty chain', async () => {
    await rejects(parseAndVerifyX509Svid('', f.source, { now: NOW }), 'SPIFFE_X509_EMPTY_CHAIN');
    await rejects(parseAndVerifyX509Svid([], f.source, { now: NOW }), 'SPIFFE_X509_EMPTY_CHAIN');
  });
});
