import { TaskweaveError } from '../src/errors.js';
import { registerErrors } from '../src/model/failure-record.js';

/** A lifecycle table is inconsistent: found when the machine is built, before anything runs. */
export class LifecycleDefinitionError extends TaskweaveError {
  constructor(
    readonly lifecycle: string,
    readonly problems: readonly string[],
  ) {
    super(`Expected a consistent lifecycle table for \`${lifecycle}\`, got: ${problems.join('; ')}.`);
  }
}

/** An event the resource's current state does not allow (the table has no such transition). */
export class LifecycleEventError extends TaskweaveError {
  constructor(
    readonly resourceId: string,
    readonly state: string,
    readonly event: string,
    readonly allowed: readonly string[],
  ) {
    super(
      `Resource \`${resourceId}\` is \`${state}\`, which does not accept \`${event}\`. Allowed now: ${
        allowed.length
          ? allowed.map((e) => `\`${e}\``).join(', ')
          : 'nothing (an action is running, or the resource is gone)'
      }.`,
    );
  }
}

/** The runner was stopped (or its store failed) while someone was waiting on it. */
export class LifecycleStoppedError extends TaskweaveError {
  constructor(
    readonly resourceId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Lifecycle runner for \`${resourceId}\` stopped; its last saved snapshot is in the store and a new runner continues from it.`,
      options,
    );
  }
}

/**
 * Another runner advanced the resource since this one loaded or last saved it: this runner's save is
 * refused (it stops; the store keeps the other runner's snapshot), so one resource has one writer.
 */
export class LifecycleConflictError extends TaskweaveError {
  constructor(
    readonly resourceId: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(
      `Resource \`${resourceId}\` was saved by another runner (stored version ${current}, this runner had ${expected}); this runner stops and leaves it to that one.`,
    );
  }
}

/**
 * An action ran past its state's `timeoutMs` (counted from entering the state, also across restores):
 * its signal was aborted, the resource took the state's `error` transition, and what the action
 * started is cancelled (a flow's run is reverted).
 */
export class ActionTimeoutError extends TaskweaveError {
  constructor(
    readonly resourceId: string,
    readonly action: string,
    readonly state: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Action \`${action}\` of resource \`${resourceId}\` (state \`${state}\`) did not finish within its timeoutMs of ${timeoutMs} ms; it was aborted, the resource took the error transition and what the action started is being cancelled.`,
    );
  }
}

/** A resource's record was asked to be deleted while it is not in a final state. */
export class LifecycleNotFinalError extends TaskweaveError {
  constructor(
    readonly resourceId: string,
    readonly state: string,
  ) {
    super(
      `Expected resource \`${resourceId}\` to be in a final state before deleting its record, got \`${state}\`; delete the resource first (its record is kept).`,
    );
  }
}

/**
 * The lifecycle store failed for a reason of its own (bad options, a Redis reply it did not expect):
 * `cause` is the underlying error. An unreachable Redis is a `StoreUnavailableError` instead.
 */
export class LifecycleStoreError extends TaskweaveError {
  constructor(
    readonly operation: string,
    readonly resourceId: string | undefined,
    cause: unknown,
  ) {
    super(
      `Lifecycle store could not ${operation}${resourceId === undefined ? '' : ` resource \`${resourceId}\``}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

registerErrors({
  LifecycleDefinitionError,
  LifecycleEventError,
  LifecycleStoppedError,
  LifecycleConflictError,
  ActionTimeoutError,
  LifecycleNotFinalError,
  LifecycleStoreError,
});
