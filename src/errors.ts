/**
 * Every error taskweave throws is a `TaskweaveError`, with fields that name what went wrong.
 * Failures cross process boundaries as plain records (`FailureRecord`) and come back as these classes.
 */
export class TaskweaveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An option or argument had the wrong type or range (engine, store, job board, conductor, watch,
 * testing and lifecycle options alike); flow and task definitions throw FlowDefinitionError instead.
 * The message says what was expected and what was got, p-queue style.
 */
export class InvalidOptionError extends TaskweaveError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly got: unknown,
    /** How `got` is shown in the message. @default `String(got)` and its type */
    shown: string = showValue(got),
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${shown}`);
  }
}

/** A value as an option message shows it: `NaN` (number), `{"a":1}` (object), `null` (null). */
export function showValue(value: unknown): string {
  let shown: string;
  try {
    // Numbers as JavaScript writes them: JSON would show NaN and Infinity as null.
    shown =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'function'
        ? String(value)
        : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  return `\`${shown}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

/** A flow definition is invalid: found before anything runs. */
export class FlowDefinitionError extends TaskweaveError {
  constructor(
    message: string,
    readonly flow?: string,
  ) {
    super(message);
  }
}

export class DuplicateNameError extends FlowDefinitionError {
  constructor(
    readonly duplicate: string,
    flow?: string,
  ) {
    super(
      `Expected every task and flow name to be unique${flow ? ` in flow \`${flow}\`` : ''}, got \`${duplicate}\` twice. Rename one of them.`,
      flow,
    );
  }
}

export class DependencyCycleError extends FlowDefinitionError {
  constructor(
    readonly cycle: readonly string[],
    flow?: string,
  ) {
    super(
      `Expected the tasks to form a DAG, got a dependency cycle: ${cycle.join(' → ')}. Break one of these links or requires/provides pairs.`,
      flow,
    );
  }
}

export interface MissingInput {
  input: string;
  neededBy: string;
}

export class MissingInputsError extends FlowDefinitionError {
  constructor(
    readonly missing: readonly MissingInput[],
    flow?: string,
  ) {
    super(
      `Expected every required input to be provided by a task or by the run's inputs, got none for: ${missing
        .map((m) => `\`${m.input}\` (needed by \`${m.neededBy}\`)`)
        .join(', ')}. Pass them as run inputs or add a task that provides them.`,
      flow,
    );
  }
}

/**
 * Raised by `run.result` when a run failed and was reverted. `notReverted` names the tasks that ran
 * but have no `revert`: whatever they did is still there.
 */
export class FlowFailedError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly failures: readonly TaskFailure[],
    readonly notReverted: readonly string[] = [],
  ) {
    const first = failures[0];
    super(
      `Run \`${runId}\` failed${first ? ` at task \`${first.task}\`: ${withoutFullStop(first.error.message)}` : ''}; ${revertedText(notReverted)}`,
      { cause: first?.error },
    );
  }
}

/** A revert threw: the run ends `FAILURE` and some effects may remain. */
export class RevertFailedError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly revertFailures: readonly TaskFailure[],
    readonly failures: readonly TaskFailure[],
    /** Tasks that ran and were not reverted: their effects may remain (the failed reverts' tasks among them). */
    readonly notReverted: readonly string[] = [],
  ) {
    const first = revertFailures[0];
    super(
      `Run \`${runId}\` could not be reverted${first ? `: revert of \`${first.task}\` threw: ${withoutFullStop(first.error.message)}` : ''}. ${
        notReverted.length === 0
          ? 'Tasks it depends on were left as they are'
          : `${names(notReverted)} ${notReverted.length === 1 ? 'was' : 'were'} not reverted (what ${notReverted.length === 1 ? 'it' : 'they'} did may still be there); everything else that ran was`
      }. Clean up by hand or call engine.revert() after fixing the cause.`,
      { cause: first?.error },
    );
  }
}

export class TaskTimeoutError extends TaskweaveError {
  constructor(
    readonly task: string,
    readonly timeoutMs: number,
  ) {
    super(`Task \`${task}\` did not finish within its timeoutMs of ${timeoutMs} ms; its signal was aborted.`);
  }
}

export class CancelledError extends TaskweaveError {
  constructor(
    readonly runId: string,
    /** Tasks that ran but have no revert: their effects stay. */
    readonly notReverted: readonly string[] = [],
  ) {
    super(`Run \`${runId}\` was cancelled; running tasks were aborted and ${revertedText(notReverted)}`);
  }
}

/** "everything that ran was reverted", naming the tasks that ran without a revert if there are any. */
function revertedText(notReverted: readonly string[]): string {
  if (notReverted.length === 0) return 'everything that ran was reverted.';
  const one = notReverted.length === 1;
  return `everything that ran was reverted except ${names(notReverted)}, which ${one ? 'has' : 'have'} no revert: what ${one ? 'it' : 'they'} did is still there.`;
}

function names(tasks: readonly string[]): string {
  return tasks.map((t) => `\`${t}\``).join(', ');
}

/** A message that goes on after it: its own closing full stop would double the punctuation. */
function withoutFullStop(message: string): string {
  return message.replace(/\.$/, '');
}

/** What a task whose execute an operator's rollback (`engine.revert`) stopped is recorded as failing with. */
export class RolledBackError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(
      `Run \`${runId}\` was rolled back (engine.revert) while this task was running: its execute was stopped, not started again, and the task is reverted.`,
    );
  }
}

export class RunSuspendedError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(`Run \`${runId}\` was suspended; call engine.resume('${runId}') to continue it.`);
  }
}

export class NotSerializableError extends TaskweaveError {
  constructor(
    readonly path: string,
    readonly got: string,
    readonly task?: string,
  ) {
    super(
      `Expected a JSON-serialisable value (plain objects, arrays, strings, numbers, booleans, null, undefined, Date, bigint, Map, Set)${
        task ? ` from task \`${task}\`` : ''
      }, got ${got} at \`${path}\`. Return plain data; keep handles and class instances out of results.${
        task
          ? ` Its revert, if it has one, is given the unstored value as \`result\` (in the process that got it), so what it made can be undone.`
          : ''
      }`,
    );
  }
}

export class UnknownFlowError extends TaskweaveError {
  constructor(
    readonly flow: string,
    readonly known: readonly string[],
  ) {
    super(
      `Expected a flow registered with this engine, got \`${flow}\`. Known flows: ${known.length ? known.map((k) => `\`${k}\``).join(', ') : 'none'}. Pass it in createEngine({ flows }).`,
    );
  }
}

/**
 * A stored run's flow structure is none of the structures this engine has registered under its name.
 * `knownVersions` lists them as `version (hash)`; `currentHash` is the newest one's.
 */
export class FlowVersionMismatchError extends TaskweaveError {
  readonly knownVersions: readonly string[];
  constructor(
    readonly runId: string,
    readonly flow: string,
    readonly storedHash: string,
    readonly currentHash: string,
    readonly storedVersion?: string,
    knownVersions?: readonly string[],
  ) {
    const known = knownVersions ?? [currentHash];
    super(
      `Run \`${runId}\` was stored by flow \`${flow}\`${storedVersion === undefined ? '' : ` version ${storedVersion}`} with structure ${storedHash}, but this engine's \`${flow}\` is ${known.length === 1 ? `only ${known[0]}` : `one of ${known.join(', ')}`}. The stored run was left untouched; register the flow it was started with beside the new one (createEngine({ flows: [old, new] })) to resume or revert it.`,
    );
    this.knownVersions = known;
  }
}

export class SnapshotCorruptError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly detail: string,
  ) {
    super(`Stored run \`${runId}\` is corrupt or not taskweave's: ${detail}. It was left as it is.`);
  }
}

export class LeaseLostError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly token: number,
    readonly currentToken?: number,
  ) {
    super(
      `Run \`${runId}\` was taken over by another engine (our fencing token ${token}${currentToken !== undefined ? `, current ${currentToken}` : ''}); this engine stopped it.`,
    );
  }
}

/**
 * The store (Redis) did not answer within `unavailableDeadlineMs`. `cause` is the client's error (e.g.
 * `connect ECONNREFUSED 127.0.0.1:6390`); `maybeStored` is true only when a write was sent and its
 * outcome is unknown (it may land when Redis answers), never for reads.
 */
export class StoreUnavailableError extends TaskweaveError {
  readonly maybeStored: boolean;
  /**
   * How long the store kept trying before it gave up (its deadline), when it did: a caller retrying on
   * top would wait that long again.
   */
  readonly waitedMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; maybeStored?: boolean; waitedMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.maybeStored = options?.maybeStored ?? false;
    this.waitedMs = options?.waitedMs;
  }
}

/**
 * Redis refused the credentials (`NOAUTH`, `WRONGPASS`) or the ACL user may not run a command
 * (`NOPERM`): raised at once, not after the deadline, since waiting will not fix it.
 */
export class RedisAuthError extends StoreUnavailableError {}

/** A reply Redis gave that is neither transient nor ours to interpret; the message starts with the reply. */
export class RedisReplyError extends TaskweaveError {
  constructor(reply: string, what: string, cause: unknown) {
    super(`${reply} (Redis refused ${what})`, { cause });
  }
}

/**
 * The stored run disappeared under a live engine (Redis lost its data, or someone deleted the run).
 * Not a takeover: that is `LeaseLostError`.
 */
export class RunLostError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(
      `Run \`${runId}\` is no longer in the store although this engine was driving it: Redis lost its data (a restart without persistence, a failover, a flush) or someone deleted it. Nothing more was written; tasks that ran may have left effects. Run it again with a new id, or enable appendonly on Redis so a restart keeps runs.`,
    );
  }
}

/** A stored write was out of order (its version was not the next one). */
export class VersionConflictError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`Run \`${runId}\`: expected to write version ${expected}, got ${got}.`);
  }
}

/** A task's failure as the engine reports it. */
export interface TaskFailure {
  task: string;
  error: Error;
}

/** `engine.start` with an id that a stored run already has. */
export class RunExistsError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(
      `Expected a new run id, got \`${runId}\` which is already stored. Use engine.resume('${runId}') to continue it, or another id.`,
    );
  }
}

/** `engine.resume` / `engine.revert` of an id the store does not hold. */
export class RunNotFoundError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(
      `Expected a stored run \`${runId}\`, got none. It may have been deleted by retention, or started on another store or prefix.`,
    );
  }
}

/** The engine was closed while the run was active; it stays stored and can be resumed. */
export class EngineClosedError extends TaskweaveError {
  constructor(readonly runId: string) {
    super(
      `The engine was closed while run \`${runId}\` was active; it is stored and can be resumed with engine.resume('${runId}').`,
    );
  }
}

/**
 * Distributed execution: a task's message was delivered `deliveries` times (more than the worker's
 * `maxDeliveries`) without an outcome, so its workers kept dying or freezing on it. The task fails with
 * this error without executing again, and the run reverts as after any task failure.
 */
export class DeliveryExhaustedError extends TaskweaveError {
  constructor(
    readonly runId: string,
    readonly task: string,
    readonly deliveries: number,
  ) {
    super(
      `Expected task \`${task}\` of run \`${runId}\` to finish within its deliveries, got ${deliveries} deliveries without an outcome (its workers died or froze each time). It failed without executing again; raise maxDeliveries or find what kills its workers.`,
    );
  }
}
