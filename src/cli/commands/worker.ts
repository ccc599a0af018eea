import { Command } from 'commander';
import { action } from '../action.js';
import { CommandFailedError } from '../cli-errors.js';

/** Distributed workers (API.md "Distributed execution") are not built yet: say so, exit 1. */
export function workerCommand(): Command {
  return new Command('worker')
    .description('execute tasks of distributed runs (not available yet)')
    .argument('<module>', 'JS or TS module exporting flows')
    .option('--queues <a,b>', 'queues to take tasks from (default: default)')
    .action(
      action(async () => {
        throw new CommandFailedError(
          'Distributed workers are not part of this build of taskweave yet; run `taskweave conductor <module>` to execute runs from the job board.',
        );
      }),
    );
}
