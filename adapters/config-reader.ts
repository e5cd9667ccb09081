import { parseDurationSeconds } from '../broker/domain/duration.js';
import { AdapterConfigError } from './credential-adapter.js';

/**
 * Reads one provider's raw configuration field by field, collecting every problem instead of stopping
 * at the first, so that `parseConfig` can report them all at once (EXAMPLES.md "Configuration").
 */
export class ConfigReader {
  readonly #raw: Readonly<Record<string, unknown>>;
  readonly #problems: string[] = [];
  /** Set when the whole configuration is not an object: its fields are then not reported one by one. */
  readonly #quiet: boolean = false;

  /** Starts reading `raw`; anything but a plain object and any key outside `known` is a problem. */
  constructor(raw: unknown, known: readonly string[]) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.#raw = {};
      this.#quiet = true;
      this.#problems.push('configuration must be an object');
      return;
    }
    this.#raw = raw as Record<string, unknown>;
    for (const key of Object.keys(this.#raw)) {
      if (!known.includes(key)) this.#report(`${key}: unknown field`);
    }
  }

  /** A required non-empty string without surrounding whitespace. */
  string(key: string): string {
    const value = this.#raw[key];
    if (typeof value !== 'string' || value.length === 0 || value.trim() !== value) {
      this.#report(`${key}: must be a non-empty string without surrounding spaces`);
      return '';
    }
    return value;
  }

  /** An optional string that must be one of `allowed`; `fallback` when absent. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.#report(`${key}: must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  /** An optional boolean; `fallback` when absent. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.#report(`${key}: must be true or false`);
    return fallback;
  }

  /**
   * An optional duration (`90s`, `15m`, `1h`, or whole seconds as a number) in seconds, at most `max`;
   * `fallback` when absent.
   */
  duration(key: string, fallback: number, max: number): number {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    let seconds: number | undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) seconds = value;
    if (typeof value === 'string') {
      try {
        seconds = parseDurationSeconds(value);
      } catch {
        seconds = undefined;
      }
    }
    if (seconds === undefined || seconds > max) {
      this.#report(`${key}: must be a duration between 1s and ${max}s`);
      return fallback;
    }
    return seconds;
  }

  /** Records a problem found by a cross-field check. */
  problem(text: string): void {
    this.#report(text);
  }

  #report(text: string): void {
    if (!this.#quiet) this.#problems.push(text);
  }

  /**
   * Returns `value` frozen when nothing was wrong.
   *
   * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` listing every problem.
   */
  finish<T extends object>(value: T): Readonly<T> {
    if (this.#problems.length > 0) throw new AdapterConfigError(this.#problems);
    return Object.freeze(value);
  }
}
