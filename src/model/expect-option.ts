import { InvalidOptionError } from '../errors.js';

/** Check a numeric option (engine, store, board, testing): a number from `min` up, an integer if asked. */
export function expectNumberOption(what: string, value: unknown, min: number, integer = false): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidOptionError(what, `${integer ? 'an integer' : 'a number'} from ${min} and up`, value);
  }
  return value;
}
