/**
 * The shapes of flow definitions: immutable values built by `task()`, `linear()`, `parallel()`,
 * `graph()` and `retry.*`. Nothing here runs anything.
 */

/** What a task's `execute` and `revert` get besides their arguments. */
export interface TaskContext {
  /** The run's id. */
  flowId: string;
  taskName: string;
  /** 1 for the first execution; counts per-task retries. */
  attempt: number;
  /** Aborted when the attempt times out, the run is cancelled, or this engine loses the run. */
  signal: AbortSignal;
  /** Unique per (run, task, retry-controller iteration); the same across attempts and resumptions. */
  idempotencyKey: string;
  /** Report progress (0..1) as a `progress` event on the run. */
  progress(fraction: number, details?: unknown): void;
}

/** Per-task retry: `attempts` counts executions in all, the first included. */
export interface TaskRetryOptions {
  /** @default 1 */
  attempts: number;
  /** Delay before the second attempt. @default 0 */
  backoffMs?: number;
  /** Multiplier per further attempt. @default 2 */
  factor?: number;
  /** Upper bound for one delay. @default 60_000 */
  maxBackoffMs?: number;
}

export type Args = Record<string, any>;

/** What `revert` receives on top of the task's arguments. */
export interface RevertExtras<R> {
  /** The task's stored result; `undefined` if it failed. */
  result: R | undefined;
  /** The task's own failure, if it failed. */
  error?: Error;
  /** Task name → failure, for all failures of this run. */
  flowFailures: Record<string, Error>;
}

export interface TaskOptions<A extends Args = Args, R = unknown> {
  name: string;
  requires?: string | readonly string[];
  optional?: string | readonly string[];
  provides?: string | readonly string[];
  rebind?: Record<string, string>;
  inject?: Record<string, unknown>;
  retry?: TaskRetryOptions;
  timeoutMs?: number;
  /** Distributed execution: only workers listening to this queue take the task. @default 'default' */
  queue?: string;
  execute(args: A, ctx: TaskContext): R | Promise<R>;
  revert?(args: A & RevertExtras<Awaited<R>>, ctx: TaskContext): unknown;
}

export interface Task<A extends Args = Args, R = any> {
  readonly kind: 'task';
  readonly name: string;
  readonly requires: readonly string[];
  readonly optional: readonly string[];
  readonly provides: readonly string[];
  readonly rebind: Readonly<Record<string, string>>;
  readonly inject: Readonly<Record<string, unknown>>;
  readonly retry: Required<TaskRetryOptions>;
  readonly timeoutMs: number | undefined;
  /** The queue its messages go to in distributed execution (not part of the flow's structure). */
  readonly queue: string;
  readonly execute: (args: A, ctx: TaskContext) => R | Promise<R>;
  readonly revert: ((args: A & RevertExtras<Awaited<R>>, ctx: TaskContext) => unknown) | undefined;
}

/** Decides whether the target of a graph link runs: false marks it (and what only it leads to) IGNORED. */
export type Decider = (history: Record<string, unknown>) => boolean;

export type Link =
  | readonly [from: string, to: string]
  | readonly [from: string, to: string, decider: Decider];

export type FlowKind = 'linear' | 'parallel' | 'graph';

export interface FlowOptions {
  /** A retry controller for this sub-flow. */
  retry?: RetryController;
  /** The flow's code version, stored with each run. @default '1' */
  version?: string;
  /** `graph()` only: explicit edges, optionally with deciders. */
  links?: readonly Link[];
}

export type Node = Task<any, any> | Flow;

export interface Flow {
  readonly kind: FlowKind;
  readonly name: string;
  readonly children: readonly Node[];
  readonly links: readonly Link[];
  readonly retry: RetryController | undefined;
  readonly version: string;
}

/** What a retry controller decides when something in its scope failed (TaskFlow's strategies). */
export type RetryDecision = 'RETRY' | 'REVERT' | 'REVERT_ALL';

export interface RetryController {
  readonly kind: 'times' | 'forEach' | 'parameterized' | 'alwaysRevert' | 'alwaysRevertAll';
  /** Name under which the controller provides this iteration's value, if any. */
  readonly provides: string | undefined;
  /** Name of the stored list the controller iterates (parameterized only). */
  readonly requires: string | undefined;
  /** Structural description for hashing and diagrams. */
  readonly describe: string;
  /**
   * Decide after a failure in the scope. `iteration` is 0 for the first run of the scope;
   * `values` is what the controller iterates (forEach / parameterized).
   */
  decide(iteration: number, values: readonly unknown[] | undefined): RetryDecision;
  /** The value provided to the scope in this iteration. */
  valueAt(iteration: number, values: readonly unknown[] | undefined): unknown;
}
