import { NotSerializableError, TaskTimeoutError, TaskweaveError } from '../errors.js';
import type { Task } from '../flow/types.js';
import { decodeValue, encodeValue } from '../model/codec.js';
import { type FailureRecord, fromFailureRecord } from '../model/failure-record.js';
import {
  type EffectParams,
  type EffectSettle,
  fromEffect,
  type LazySignal,
  type SettlingEffect,
  settling,
} from './effect-actor.js';
import type { FlowGraph } from './flow-graph.js';

/**
 * The child actors a compiled machine invokes by name: `execute`, `revert` and `sleepUntil`.
 * Their inputs are plain data (persisted with the snapshot), so XState re-runs an in-flight one after
 * rehydration. The engine supplies hooks: the durability barrier and progress events.
 */
export interface TaskHooks {
  /** Resolves once the snapshot that started this effect is durable; rejects if the run was lost. */
  beforeEffect(runId: string): Promise<void>;
  progress(runId: string, task: string, fraction: number, details: unknown): void;
  /**
   * Wraps each execute and revert (the engine's tracing): runs `run` with `settle`, or with a `settle`
   * of its own that ends the effect's span and passes the outcome on. Absent: effects run as they are.
   */
  trace?<T>(
    kind: 'execute' | 'revert',
    input: ExecuteInput,
    run: (settle: EffectSettle<T>) => void,
    settle: EffectSettle<T>,
  ): void;
}

export const noHooks: TaskHooks = {
  beforeEffect: () => Promise.resolve(),
  progress: () => {},
};

export interface ExecuteInput {
  runId: string;
  task: string;
  attempt: number;
  idempotencyKey: string;
  args: Record<string, unknown>;
  /** A distributed worker's: the run span's ids stored with the run (never in a snapshot). */
  traceParent?: string;
}

export interface RevertInput {
  runId: string;
  task: string;
  attempt: number;
  idempotencyKey: string;
  args: Record<string, unknown>;
  result: unknown;
  error: FailureRecord | undefined;
  flowFailures: Record<string, FailureRecord>;
}

export interface SleepInput {
  until: number;
}

export function createTaskActors(graph: FlowGraph, hooks: TaskHooks = noHooks) {
  const taskOf = (name: string): Task<any, any> => {
    const node = graph.byName.get(name);
    if (!node) throw new Error(`Task \`${name}\` is not part of flow \`${graph.name}\``);
    return node.task;
  };

  /**
   * Results that could not be stored (NotSerializableError), kept in this process for the task's
   * revert: the effect that made them (a VM, a socket) can then still be undone. Dropped by the revert.
   */
  const unstorable = new Map<string, unknown>();
  const unstorableKey = (input: ExecuteInput | RevertInput) => `${input.runId}\u0000${input.task}`;

  const context = (input: ExecuteInput | RevertInput, signal: () => AbortSignal) => ({
    flowId: input.runId,
    taskName: input.task,
    attempt: input.attempt,
    // Made when the task reads it (see effect-actor.ts).
    get signal() {
      return signal();
    },
    idempotencyKey: input.idempotencyKey,
    progress: (fraction: number, details?: unknown) =>
      hooks.progress(input.runId, input.task, fraction, details),
  });

  /** A task's result as stored: the shape its `provides` needs, encoded (checked serialisable, frozen). */
  const storable = (task: Task, input: ExecuteInput, result: unknown): unknown => {
    if (task.provides.length > 1 && (result === null || typeof result !== 'object')) {
      throw new NotSerializableError(
        '$',
        `${result === null ? 'null' : typeof result} where an object with ${task.provides.map((p) => `\`${p}\``).join(', ')} was needed`,
        task.name,
      );
    }
    // Each name of a multi-provides must be a key of the result, or dependents would read undefined.
    const absent =
      task.provides.length > 1 ? task.provides.find((p) => !(p in (result as object))) : undefined;
    if (absent !== undefined) {
      throw new NotSerializableError(
        `$.${absent}`,
        `no key \`${absent}\` (named in provides) in the result`,
        task.name,
      );
    }
    // Encoding checks serialisability and freezes the value as it was when the task finished.
    try {
      return encodeValue(result, '$', task.name);
    } catch (error) {
      if (error instanceof NotSerializableError && task.revert) unstorable.set(unstorableKey(input), result);
      throw error;
    }
  };

  const traced = <I extends ExecuteInput, T>(
    kind: 'execute' | 'revert',
    effect: SettlingEffect<T, I>,
  ): SettlingEffect<T, I> =>
    hooks.trace ? (p, settle) => hooks.trace!(kind, p.input, (s) => effect(p, s), settle) : effect;

  /**
   * A task's execute, once the write that started it is durable: settles with its result as stored,
   * or with what it threw. A function of its own: what its callbacks hold while the task runs is this
   * scope (the task, its input, `settle`), not the effect's.
   */
  const runExecute = (input: ExecuteInput, signal: LazySignal, settle: EffectSettle<unknown>): void => {
    // Cancelled (or stopped) while waiting for the write: the effect must not start at all.
    if (signal.aborted) throw signal.signal.reason;
    const task = taskOf(input.task);
    checkScopeValues(graph, input);
    withTimeout(task.name, task.timeoutMs, signal, (s) =>
      task.execute(decodeValue(input.args) as Record<string, unknown>, context(input, s)),
    ).then(
      (result) => {
        let stored: unknown;
        try {
          stored = storable(task, input, result);
        } catch (error) {
          return settle.fail(error);
        }
        settle.done(stored);
      },
      (error) => settle.fail(error),
    );
  };

  return {
    // Callbacks, not a promise returned: a task waiting on its effect (most of a run's life) then holds
    // its own promise and one reaction to it, as XState's fromPromise does, and no chain of promises
    // resolved with the next (see effect-actor.ts), nor a suspended frame of ours (an async function).
    execute: fromEffect<unknown, ExecuteInput>(
      traced('execute', ({ input, signal }, settle) => {
        hooks
          .beforeEffect(input.runId)
          .then(() => runExecute(input, signal, settle))
          .catch((error) => settle.fail(error));
      }),
    ),

    revert: fromEffect<void, RevertInput>(
      traced(
        'revert',
        settling(async ({ input, signal }: EffectParams<RevertInput>) => {
          await hooks.beforeEffect(input.runId);
          // Cancelled (or stopped) while waiting for the write: the effect must not start at all.
          if (signal.aborted) throw signal.signal.reason;
          const task = taskOf(input.task);
          const raw = unstorable.get(unstorableKey(input));
          unstorable.delete(unstorableKey(input));
          if (!task.revert) return;
          const flowFailures: Record<string, Error> = {};
          for (const [name, record] of Object.entries(input.flowFailures))
            flowFailures[name] = fromFailureRecord(record);
          const args = {
            ...(decodeValue(input.args) as Record<string, unknown>),
            // A result that could not be stored is handed over as it was (in the process that got it).
            result: input.result === undefined ? raw : decodeValue(input.result),
            flowFailures,
            ...(input.error ? { error: fromFailureRecord(input.error) } : {}),
          };
          await withTimeout(task.name, task.timeoutMs, signal, (s) =>
            task.revert!(args as any, context(input, s)),
          );
        }),
      ),
    ),

    sleepUntil: fromEffect<void, SleepInput>(
      settling(
        ({ input, signal }) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, input.until - Date.now()));
            signal.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
          }),
      ),
    ),
  };
}

function withTimeout<T>(
  task: string,
  timeoutMs: number | undefined,
  stop: LazySignal,
  run: (signal: () => AbortSignal) => T | Promise<T>,
): Promise<T> {
  // Not an async function: a task waiting (most of a run's life) then holds no suspended frame here.
  if (timeoutMs === undefined) {
    try {
      return Promise.resolve(run(() => stop.signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return raceTimeout(task, timeoutMs, stop, run);
}

async function raceTimeout<T>(
  task: string,
  timeoutMs: number,
  stop: LazySignal,
  run: (signal: () => AbortSignal) => T | Promise<T>,
): Promise<T> {
  // With a timeout the task's signal also aborts on the deadline, so it is made now.
  const signal = stop.signal;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TaskTimeoutError(task, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => run(() => controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A retry controller's value for this iteration must exist: a parameterized list that is empty (or
 * not a list) leaves nothing to try, so the task fails before its execute is called; its controller
 * then finds no next value and the scope reverts.
 */
function checkScopeValues(graph: FlowGraph, input: ExecuteInput): void {
  const args = input.args as Record<string, unknown>;
  for (const [arg, source] of Object.entries(graph.byName.get(input.task)!.args)) {
    if (source.kind !== 'scope' || decodeValue(args[arg]) !== undefined) continue;
    const { controller } = graph.scopes.get(source.scope)!;
    throw new TaskweaveError(
      `Expected a value for \`${arg}\` of task \`${input.task}\` from ${controller.describe} of \`${source.scope}\`, got none: its list is empty or not a list. Give the run at least one value to try.`,
    );
  }
}
