import { TaskweaveError } from '../errors.js';

/** The command line was wrong (exit code 2): a missing argument, a bad option value. */
export class UsageError extends TaskweaveError {}

/** What the CLI was asked to do failed (exit code 1), with a message that says what to do. */
export class CommandFailedError extends TaskweaveError {}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** No such run in the store the command looked at. */
export function runNotFound(id: string): CommandFailedError {
  return new CommandFailedError(
    `No run \`${id}\` in this store. Check the id, --redis and --prefix (taskweave runs ls).`,
  );
}
