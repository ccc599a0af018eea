import { TaskweaveError } from '../errors.js';

/** The failure path testing injects: thrown instead of running a task's execute (or revert). */
export class InjectedFailureError extends TaskweaveError {
  constructor(
    readonly task: string,
    readonly kind: 'execute' | 'revert' = 'execute',
  ) {
    super(`Injected ${kind} failure of \`${task}\` (path testing)`);
  }
}
