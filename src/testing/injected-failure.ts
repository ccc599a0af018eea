import { TaskweaveError } from '../errors.js';
import { registerErrors } from '../model/failure-record.js';

/** The failure path testing injects: thrown instead of running a task's execute (or revert). */
export class InjectedFailureError extends TaskweaveError {
  constructor(
    readonly task: string,
    readonly kind: 'execute' | 'revert' = 'execute',
  ) {
    super(`Injected ${kind} failure of \`${task}\` (path testing)`);
  }
}

// Thrown into a task under test, it is stored as the task's failure: it comes back as itself.
registerErrors({ InjectedFailureError });
