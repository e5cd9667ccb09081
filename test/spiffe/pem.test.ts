import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeCertificatesDer,
  encodeCertificatesPem,
  encodePem,
  parseCertificates,
  parseDerCertificate,
  parseDerCertificates,
} from '../../spiffe/pem.js';
import type { SpiffeErrorCode } from '../../spiffe/errors.js';
import type { Certificate } from '../../spiffe/bundle.js';
import { TestCa } from '../support/test-ca.js';
import { throwsCode } from './x509-fixture.js';

describe('pem', () => {
  let chain: Certificate[];
  let pem: string;
  before(async () => {
    const root = await TestCa.root('example.org');
    chain = (await (await root.intermediate()).leaf()).chain;
    pem = encodeCertificatesPem(chain);
  });

  const same = (a: readonly Certificate[], b: readonly Certificate[]): void => {
    assert.deepEqual(
      a.map((c) => Buffer.from(c.rawData).toString('hex')),
      b.map((c) => Buffer.from(c.rawData).toString('hex')),
    );
  };

  it('round-trips a chain through PEM, in order', () => {
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n/);
    assert.ok(pem.split('\n').every((line) => line.length <= 64));
    same(parseCertificates(pem), chain);
  });

  it('round-trips a chain through concatenated DER', () => {
    const der = encodeCertificatesDer(chain);
    same(parseDerCertificates(der), chain);
    same(parseCertificates(der), chain);
  });

  it('accepts PEM given as bytes, CRLF line ends, text between blocks and other block types', () => {
    const key = encodePem('PRIVATE KEY', new Uint8Array([0x30, 0x00]));
    const messy = `subject=CN=leaf\r\n${pem.replace(/\n/g, '\r\n')}\n# comment\n${key}`;
    same(parseCertificates(messy), chain);
    same(parseCertificates(Buffer.from(messy)), chain);
  });

  const bad: { name: string; input: string | Uint8Array; code: SpiffeErrorCode }[] = [
    { name: 'rejects an empty string as an empty chain', input: '', code: 'SPIFFE_X509_EMPTY_CHAIN' },
    { name: 'rejects whitespace as an empty chain', input: ' \n\t', code: 'SPIFFE_X509_EMPTY_CHAIN' },
    {
      name: 'rejects empty bytes as an empty chain',
      input: new Uint8Array(),
      code: 'SPIFFE_X509_EMPTY_CHAIN',
    },
    {
      name: 'rejects PEM holding only a key as an empty chain',
      input: encodePem('PRIVATE KEY', new Uint8Array([0x30, 0x00])),
      code: 'SPIFFE_X509_EMPTY_CHAIN',
    },
    { name: 'rejects plain text as malformed', input: 'hello world', code: 'SPIFFE_X509_MALFORMED' },
    {
      name: 'rejects random bytes as malformed',
      input: new Uint8Array([1, 2, 3, 4]),
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects a DER sequence that is not a certificate as malformed',
      input: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]),
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects an indefinite-length (BER) encoding as malformed',
      input: new Uint8Array([0x30, 0x80, 0x00, 0x00]),
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects an unterminated PEM block as malformed',
      input: '-----BEGIN CERTIFICATE-----\nMIIB\n',
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects mismatched PEM labels as malformed',
      input: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n',
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects invalid base64 inside a block as malformed',
      input: '-----BEGIN CERTIFICATE-----\nMI*B\n-----END CERTIFICATE-----\n',
      code: 'SPIFFE_X509_MALFORMED',
    },
    {
      name: 'rejects a certificate block holding garbage as malformed',
      input: encodePem('CERTIFICATE', new Uint8Array([0x30, 0x02, 0x05, 0x00])),
      code: 'SPIFFE_X509_MALFORMED',
    },
  ];

  for (const c of bad) {
    it(c.name, () => throwsCode(() => parseCertificates(c.input), c.code));
  }

  it('rejects truncated concatenated DER as malformed', () => {
    const der = encodeCertificatesDer(chain);
    throwsCode(() => parseDerCertificates(der.subarray(0, der.length - 10)), 'SPIFFE_X509_MALFORMED');
  });

  it('rejects trailing bytes after a single DER certificate as malformed', () => {
    const der = Buffer.concat([new Uint8Array(chain[0]!.rawData), Buffer.from([0])]);
    throwsCode(() => parseDerCertificate(der), 'SPIFFE_X509_MALFORMED');
  });

  it('rejects a PEM block with trailing bytes after the certificate as malformed', () => {
    const der = Buffer.concat([new Uint8Array(chain[0]!.rawData), Buffer.from([0x30, 0x00])]);
    throwsCode(() => parseCertificates(encodePem('CERTIFICATE', der)), 'SPIFFE_X509_MALFORMED');
  });
});
