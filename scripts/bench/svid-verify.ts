// svid-verify: JWT-SVID and X509-SVID verifications per second, next to the raw signature-verify rate of
// the same algorithms with node:crypto on the same machine in the same run, and their ratio.
//
//   node dist/scripts/bench/svid-verify.js        (or `npm run bench -- svid-verify`)
//
// Prints `svid-verify.<figure>: <value> <unit>` lines. Each measurement runs for a bounded time.
import { verify as cryptoVerify, webcrypto, type KeyObject } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as pkijs from 'pkijs';
import type { Certificate } from '../../spiffe/bundle.js';
import { verifyJwtSvid } from '../../spiffe/jwt-svid.js';
import { parseDerCertificate } from '../../spiffe/pem.js';
import { verifyX509Svid } from '../../spiffe/x509-svid.js';
import { staticSource, TestCa, TestJwtAuthority, testBundle } from '../../test/support/test-ca.js';

const NAME = 'svid-verify';
const MEASURE_MS = 300;
const WARMUP_MS = 80;
const CONCURRENCY = 16;
const NOW = new Date('2031-05-01T12:00:00Z');
const FIRST_SIGHT_LEAVES = 61;

interface Measurement {
  perSecond: number;
  p50Us: number;
  p99Us: number;
}

/** Runs `op` back to back for about `ms`, timing each call. */
async function measure(op: (i: number) => unknown, ms = MEASURE_MS): Promise<Measurement> {
  for (let i = 0, end = performance.now() + WARMUP_MS; performance.now() < end; i++) await op(i);
  const samples: number[] = [];
  const start = performance.now();
  const end = start + ms;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  const elapsed = performance.now() - start;
  samples.sort((a, b) => a - b);
  const pct = (p: number): number =>
    (samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0) * 1000;
  return { perSecond: samples.length / (elapsed / 1000), p50Us: pct(0.5), p99Us: pct(0.99) };
}

/** Runs `op` with CONCURRENCY calls in flight for about `ms`; WebCrypto-based work spreads over the
 * libuv thread pool, so this is the figure a busy server sees. Returns calls per second. */
async function measureConcurrent(op: () => Promise<unknown>, ms = MEASURE_MS): Promise<number> {
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async (): Promise<void> => {
    for (; performance.now() < end; done++) await op();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / ((performance.now() - start) / 1000);
}

function print(figure: string, value: number | string, unit = ''): void {
  console.log(`${NAME}.${figure}: ${value}${unit ? ` ${unit}` : ''}`);
}

function report(prefix: string, full: Measurement, raw: Measurement): void {
  print(`${prefix}.throughput`, Math.round(full.perSecond), 'per_s');
  print(`${prefix}.p50`, full.p50Us.toFixed(1), 'us');
  print(`${prefix}.p99`, full.p99Us.toFixed(1), 'us');
  print(`${prefix}.raw_verify`, Math.round(raw.perSecond), 'per_s');
  print(`${prefix}.ratio_to_raw`, (full.perSecond / raw.perSecond).toFixed(2));
}

async function benchJwt(alg: 'ES256' | 'RS256'): Promise<void> {
  const authority = new TestJwtAuthority(alg, `bench-${alg}`);
  const source = staticSource(testBundle('example.org', { jwt: [authority] }));
  const token = authority.mint({ now: NOW, aud: 'bench' });
  const opts = { now: NOW, audience: 'bench' };
  const full = await measure(() => verifyJwtSvid(token, source, opts));
  const concurrent = await measureConcurrent(() => verifyJwtSvid(token, source, opts));
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const input = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  const key: KeyObject = authority.publicKey;
  const rawOp =
    alg === 'ES256'
      ? () => cryptoVerify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig)
      : () => cryptoVerify('sha256', input, key, sig);
  if (!rawOp()) throw new Error('raw verification failed');
  const prefix = `jwt_${alg.toLowerCase()}`;
  report(prefix, full, await measure(rawOp));
  print(`${prefix}.throughput_c${CONCURRENCY}`, Math.round(concurrent), 'per_s');
  // jose verifies through WebCrypto (asynchronous, on the thread pool): the floor under the JWT figures.
  const cryptoKey = await webcrypto.subtle.importKey(
    'spki',
    key.export({ type: 'spki', format: 'der' }),
    importParams(alg),
    false,
    ['verify'],
  );
  const webOp = () => webcrypto.subtle.verify(verifyParams(alg), cryptoKey, sig, input);
  print(`${prefix}.raw_webcrypto_verify`, Math.round((await measure(webOp)).perSecond), 'per_s');
  // The same primitive at the same concurrency: what full verification adds over the signature check
  // that jose itself must make.
  const webConcurrent = await measureConcurrent(webOp);
  print(`${prefix}.raw_webcrypto_verify_c${CONCURRENCY}`, Math.round(webConcurrent), 'per_s');
  print(`${prefix}.ratio_to_raw_webcrypto_c${CONCURRENCY}`, (concurrent / webConcurrent).toFixed(2));
}

function importParams(alg: 'ES256' | 'RS256'): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  return alg === 'ES256'
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

function verifyParams(alg: 'ES256' | 'RS256'): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

async function benchX509(): Promise<void> {
  const root = await TestCa.root('example.org', { now: NOW });
  const inter = await root.intermediate();
  const leaf = await inter.leaf();
  const source = staticSource(testBundle('example.org', { roots: [root.cert] }));
  // Fresh certificate objects for every call, as each TLS connection or RPC brings its own chain: only
  // the bundle's roots stay parsed between verifications. Parsing them is outside the timed region.
  const ders = leaf.chain.map((c) => new Uint8Array(c.rawData));
  const copies: Certificate[][] = Array.from({ length: 4000 }, () => ders.map((d) => parseDerCertificate(d)));
  const full = await measure((i) =>
    verifyX509Svid(copies[i % copies.length] as Certificate[], source, { now: NOW }),
  );
  // The raw cost of the same path: the leaf's signature under the intermediate key, and the
  // intermediate's under the root key.
  const links = [
    [leaf.cert, inter],
    [inter.cert, root],
  ] as const;
  const checks = links.map(([cert, issuer]) => {
    const pki = pkijs.Certificate.fromBER(cert.rawData);
    return { tbs: pki.tbsView, sig: pki.signatureValue.valueBlock.valueHexView, key: issuer.keys.publicKey };
  });
  const rawOp = (): boolean => checks.every((c) => cryptoVerify('sha256', c.tbs, c.key, c.sig));
  if (!rawOp()) throw new Error('raw verification failed');
  report('x509_ec_p256_1int', full, await measure(rawOp));
  await benchX509FirstSight(inter);
}

/**
 * Leaves never seen before (new workloads, rotations): nothing but the roots and the intermediate is
 * parsed yet, so this includes pkijs's decoding of the leaf.
 */
async function benchX509FirstSight(inter: TestCa): Promise<void> {
  const source = staticSource(testBundle('example.org', { roots: [inter.root.cert] }));
  const chains: Certificate[][] = [];
  for (let i = 0; i < FIRST_SIGHT_LEAVES; i++) chains.push((await inter.leaf()).chain);
  await verifyX509Svid(chains[0] as Certificate[], source, { now: NOW }); // the intermediate, once
  const samples: number[] = [];
  for (const chain of chains.slice(1)) {
    const t0 = performance.now();
    await verifyX509Svid(chain, source, { now: NOW });
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  print('x509_ec_p256_1int.first_sight_p50', (samples[Math.floor(samples.length / 2)] ?? 0).toFixed(1), 'us');
}

/** Runs the benchmark and prints its figures. */
export async function run(): Promise<void> {
  await benchJwt('ES256');
  await benchJwt('RS256');
  await benchX509();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
