import type { SpiffeBundle } from '../../spiffe/bundle.js';
import type { BundleFetcher } from '../../spiffe/federation/bundle-fetcher.js';
import type { TrustDomain } from '../../spiffe/trust-domain.js';

/**
 * A bundle source that returns what the test sets, with failure injection (SPIRE's fakes style):
 * `failNextWith` fails one fetch, `failWith` fails until `serve` is called, `hold` keeps the next fetch
 * pending until released.
 */
export class FakeBundleFetcher implements BundleFetcher {
  readonly trustDomain: TrustDomain;
  /** How many fetches were made. */
  calls = 0;
  #bundle: SpiffeBundle | undefined;
  #failOnce: unknown[] = [];
  #failAlways: unknown = undefined;
  #gate: Promise<void> | undefined;

  constructor(trustDomain: TrustDomain, bundle?: SpiffeBundle) {
    this.trustDomain = trustDomain;
    this.#bundle = bundle;
  }

  /** Serves `bundle` from now on and clears a persistent failure. */
  serve(bundle: SpiffeBundle): void {
    this.#bundle = bundle;
    this.#failAlways = undefined;
  }

  /** Fails the next fetch with `err`. */
  failNextWith(err: unknown): void {
    this.#failOnce.push(err);
  }

  /** Fails every fetch with `err` until {@link serve}. */
  failWith(err: unknown): void {
    this.#failAlways = err;
  }

  /** Keeps fetches pending until the returned function is called. */
  hold(): () => void {
    let release = (): void => undefined;
    this.#gate = new Promise<void>((resolve) => {
      release = () => {
        this.#gate = undefined;
        resolve();
      };
    });
    return release;
  }

  async fetchBundle(): Promise<SpiffeBundle> {
    this.calls++;
    if (this.#gate) await this.#gate;
    if (this.#failOnce.length > 0) throw this.#failOnce.shift();
    if (this.#failAlways !== undefined) throw this.#failAlways;
    if (!this.#bundle) throw new Error('fake fetcher has no bundle to serve');
    return this.#bundle;
  }

  describe(): string {
    return `fake for ${this.trustDomain}`;
  }
}
