import { BrokerError } from '../errors.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(?:(\d+)(d|h|m|s))+$/;
const PART = /(\d+)(d|h|m|s)/g;

/** Largest duration accepted: one year, far beyond any credential or task lifetime. */
export const MAX_DURATION_SECONDS = 366 * 86400;

/**
 * Parses a duration such as `90s`, `5m`, `1h30m` or `2d` (units d, h, m, s, each at most once and in
 * that order) into whole seconds. A bare integer is read as seconds.
 *
 * @throws {BrokerError} `BROKER_INPUT_BAD_DURATION` for anything else, zero, or more than a year.
 */
export function parseDurationSeconds(text: string): number {
  const trimmed = text.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else {
    if (!DURATION.test(trimmed)) throw new BrokerError('BROKER_INPUT_BAD_DURATION', JSON.stringify(text));
    seconds = 0;
    const seen: string[] = [];
    for (const [, amount, unit] of trimmed.matchAll(PART)) {
      const order = 'dhms';
      if (seen.length > 0 && order.indexOf(unit!) <= order.indexOf(seen[seen.length - 1]!)) {
        throw new BrokerError('BROKER_INPUT_BAD_DURATION', JSON.stringify(text));
      }
      seen.push(unit!);
      seconds += Number(amount) * UNIT_SECONDS[unit!]!;
    }
  }
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_DURATION_SECONDS) {
    throw new BrokerError('BROKER_INPUT_BAD_DURATION', JSON.stringify(text));
  }
  return seconds;
}
