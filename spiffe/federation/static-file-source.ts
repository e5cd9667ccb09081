import { readFile } from 'node:fs/promises';
import type { SpiffeBundle } from '../bundle.js';
import { parseBundleDocument } from '../bundle-json.js';
import { SpiffeError } from '../errors.js';
import { TrustDomain } from '../trust-domain.js';
import type { BundleFetcher } from './bundle-fetcher.js';

/** A bundle file argument: `FILE`, or `TRUST_DOMAIN=FILE`. */
export interface BundleFileSpec {
  /** The trust domain named before `=`, if any. */
  readonly trustDomain: TrustDomain | undefined;
  readonly path: string;
}

/**
 * Parses a bundle file argument as DESIGN.md's `--bundle [TRUST_DOMAIN=]FILE` takes it.
 *
 * Text before the first `=` is a trust domain unless it contains a `/`, so `./a=b` and `/x/a=b` are
 * plain paths; a file named `a=b` in the working directory is written `./a=b`.
 *
 * @throws {SpiffeError} a `SPIFFE_ID_*` code for a bad trust domain, `SPIFFE_BUNDLE_BAD_ENDPOINT` for an
 * empty path.
 */
export function parseBundleFileSpec(spec: string): BundleFileSpec {
  const eq = spec.indexOf('=');
  const named = eq > 0 && !spec.slice(0, eq).includes('/');
  const path = named ? spec.slice(eq + 1) : spec;
  if (path === '') throw new SpiffeError('SPIFFE_BUNDLE_BAD_ENDPOINT', 'bundle file path is empty');
  return { trustDomain: named ? TrustDomain.parse(spec.slice(0, eq)) : undefined, path };
}

/**
 * Reads the bundle of `trustDomain` from a file holding a SPIFFE bundle (JWK Set, Trust Domain and
 * Bundle §4) or PEM X.509 authorities.
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_FETCH_FAILED` when the file cannot be read (the system error
 * as `cause`); `SPIFFE_BUNDLE_MALFORMED` or `SPIFFE_BUNDLE_BAD_KEY` as the parsers do.
 */
export async function loadBundleFile(trustDomain: TrustDomain, path: string): Promise<SpiffeBundle> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new SpiffeError('SPIFFE_BUNDLE_FETCH_FAILED', `cannot read bundle file (${String(code)})`, {
      cause: err,
    });
  }
  return parseBundleDocument(trustDomain, data);
}

/**
 * A bundle kept in a local file (go-spiffe's `spiffebundle.Load`), re-read at each fetch so that an
 * operator replacing the file is picked up by the refresher.
 */
export class StaticFileSource implements BundleFetcher {
  readonly trustDomain: TrustDomain;
  readonly path: string;

  constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
  }

  /** @throws {SpiffeError} as {@link loadBundleFile}. */
  fetchBundle(): Promise<SpiffeBundle> {
    return loadBundleFile(this.trustDomain, this.path);
  }

  describe(): string {
    return `file ${this.path} for ${this.trustDomain}`;
  }
}
