import { UsageError } from './cli-errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `15m`, `12h`, `7d`, `2w`, `500ms` (or a sum: `1h30m`) in milliseconds. */
export function parseDuration(text: string, option = 'duration'): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new UsageError(`Expected ${option} to be a duration like 30m, 12h or 7d, got \`${text}\`.`);
  }
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}

/** A whole number from `min` up, from an option's text. */
export function parseCount(text: string, option: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`Expected ${option} to be a whole number from ${min} up, got \`${text}\`.`);
  }
  return n;
}
