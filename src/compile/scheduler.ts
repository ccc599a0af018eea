import { CancelledError, RolledBackError } from '../errors.js';
import { type FailureRecord, toFailureRecord } from '../model/failure-record.js';
import { isFinished } from '../model/run-status.js';
import { BUSY_STATES, isAllowedTransition, type TaskState } from '../model/task-states.js';
import { createArguments } from './arguments.js';
import { createDecisions } from './decisions.js';
import type { ArgSource, FlowGraph } from './flow-graph.js';
import type { DirectStarts } from './lanes.js';
import type { RunContext, TaskRecord } from './run-context.js';
import { movePhase, moveStatus } from './run-moves.js';
import { type RecordWriter, recordOf } from './task-records.js';

/**
 * The run's scheduler (TaskFlow's scheduler + completer), run inside the machine's actions: the
 * bookkeeping of a pure step (decisions.ts makes the decisions; records are replaced, never changed).
 * It reads and updates the context draft and says which per-task events to raise. It only looks at
 * the tasks an event can affect (a finished task's dependents or dependencies), so its cost per event
 * does not grow with the flow's size; full scans happen only when the phase changes or a run resumes.
 */
export interface Step {
  /** Events to raise, in order (`START.<task>`, `REVERT.<task>`, ...). */
  raise: string[];
  /** Task state changes, in order (for events and incremental persistence), each with the new record. */
  changed: TaskChange[];
  /** Tasks the machine starts by itself in this microstep (their lanes listen for the completion): no WAKE needed. */
  direct?: readonly string[];
  /** Copy-on-write of the draft's task records: records are replaced, never changed in place. */
  records: RecordWriter;
  /** The time of the event being applied (epoch ms): transitions read no clock. */
  at: number;
}

export type Draft = RunContext;

/** A task record's fields besides its state, as `setState` takes them: a field left undefined is dropped. */
export type RecordFields = { [K in Exclude<keyof TaskRecord, 's' | 'a'>]?: TaskRecord[K] | undefined } & {
  a: number;
};

/** A task state change, as the run actor's `step` event lists it (`RunStepEvent.changed`). */
export interface TaskStateEvent {
  type: 'task';
  task: string;
  state: TaskState;
  attempt: number;
  /** When (epoch ms): the time carried by the event that caused the change. */
  at: number;
}

/** One task state change of a step, with the task's new record (the one the step stored; never changed). */
export interface TaskChange extends TaskStateEvent {
  record: TaskRecord;
}

export interface Scheduler {
  /** Look at `candidates` (or every task) and start, ignore, revert or finish what is due. */
  schedule(ctx: Draft, candidates: Iterable<string> | 'all', step: Step): void;
  /** A task ended in FAILURE: decide (with the retry controllers) what the run does next. */
  onFailure(ctx: Draft, task: string, step: Step): void;
  /** Cancel: abort running tasks and revert everything that ran. */
  cancel(ctx: Draft, step: Step): void;
  /**
   * An operator's rollback: revert everything that ran, whatever the run's state. `interrupted`: the
   * run was just taken over, so the executes it shows in flight run nowhere (their process died).
   */
  rollback(ctx: Draft, step: Step, interrupted: boolean): void;
  /** Move a task along TASK_TRANSITIONS; `fields` gives the new record's other fields from the old record. */
  setState(
    ctx: Draft,
    task: string,
    state: TaskState,
    step: Step,
    fields?: (old: TaskRecord) => RecordFields,
  ): void;
  /**
   * Whether `task` starts in the very microstep in which `dep` completes, by its lane's own transition
   * (the machine's `canStartAfter` guard): it waits for nothing else. Read on the context before the event.
   */
  startsWith(ctx: RunContext, dep: string, task: string): boolean;
  /** Whether the machine has a transition starting `task` on `dep`'s completion. */
  listensFor(dep: string, task: string): boolean;
  value(ctx: RunContext, source: ArgSource): unknown;
  /** The same, encoded, for a task actor's persisted input. */
  encodedArgs(ctx: RunContext, task: string): Record<string, unknown>;
  /** Idempotency key: stable per (run, task, retry iteration). */
  key(ctx: RunContext, task: string): string;
}

/** `direct`: pairs (dependency → task, see lanes.ts) whose start the machine makes by itself. */
export function createScheduler(
  graph: FlowGraph,
  direct: DirectStarts,
  /** The most tasks of one run busy at once, whatever the run's own limit (the spawned shape's bound). */
  maxBusy = Number.POSITIVE_INFINITY,
): Scheduler {
  const all = graph.tasks.map((t) => t.name);
  const rec = (ctx: Pick<RunContext, 'tasks'>, task: string): TaskRecord => recordOf(graph, ctx, task);
  const total = all.length;
  /** Move a task to `state` (checked against TASK_TRANSITIONS), with the record's other fields from `with`. */
  const setState = (
    ctx: Draft,
    task: string,
    state: TaskState,
    step: Step,
    fields?: (old: TaskRecord) => RecordFields,
  ) => {
    const record = rec(ctx, task);
    const old = record.s;
    if (!isAllowedTransition(old, state)) {
      throw new Error(
        `taskweave bug: task \`${task}\` moved ${old} → ${state}, which TASK_TRANSITIONS does not allow`,
      );
    }
    const delta = (BUSY_STATES.has(state) ? 1 : 0) - (BUSY_STATES.has(old) ? 1 : 0);
    if (delta !== 0) ctx.busy += delta;
    if (old === 'SUCCESS' || old === 'IGNORED') ctx.settled -= 1;
    if (state === 'SUCCESS' || state === 'IGNORED') ctx.settled += 1;
    const base = fields ? fields(record) : record;
    // Built field by field (a field `fields` left undefined is dropped): this runs on every task change,
    // and an object rest/spread costs several times more. `s` first: the stored part reads as the state
    // it is in (`{"s":"SUCCESS",...}`).
    const next: TaskRecord = { s: state, a: base.a };
    if (base.r !== undefined) next.r = base.r;
    if (base.f !== undefined) next.f = base.f;
    if (base.at !== undefined) next.at = base.at;
    // Times of the task's last effect: started on entering a busy state from a resting one, ended on leaving.
    if ((state === 'RUNNING' || state === 'REVERTING') && !BUSY_STATES.has(old)) next.st = step.at;
    else {
      if (base.st !== undefined) next.st = base.st;
      if (BUSY_STATES.has(old) && !BUSY_STATES.has(state)) next.ft = step.at;
      else if (base.ft !== undefined) next.ft = base.ft;
    }
    step.records.put(task, next);
    step.changed.push({ type: 'task', task, state, attempt: next.a, at: step.at, record: next });
  };

  const { value, scopeValues, encodedArgs, key } = createArguments(graph);
  const { retrySet, nestedScopes, readiness, revertible, resolve } = createDecisions(graph, scopeValues);

  const limit = (ctx: Draft) => (ctx.concurrency > 0 ? Math.min(ctx.concurrency, maxBusy) : maxBusy);

  const start = (ctx: Draft, task: string, step: Step) => {
    setState(ctx, task, 'RUNNING', step, () => ({ a: 1 }));
    if (!step.direct?.includes(task)) step.raise.push(`START.${task}`);
  };

  const revert = (ctx: Draft, task: string, step: Step) => {
    setState(ctx, task, 'REVERTING', step);
    step.raise.push(`REVERT.${task}`);
  };

  /** Start what waits in the queue while slots are free; drop what is no longer due. */
  const drain = (ctx: Draft, max: number, due: (t: string) => boolean, go: (t: string) => void) => {
    if (ctx.queue.length === 0 || ctx.busy >= max) return;
    const keep: string[] = [];
    for (const t of ctx.queue) {
      if (!due(t)) continue;
      if (ctx.busy < max) go(t);
      else keep.push(t);
    }
    // A new array only when something left the queue: its part is written when its identity changes.
    if (keep.length !== ctx.queue.length) ctx.queue = keep;
  };

  const finish = (ctx: Draft, status: 'SUCCESS' | 'REVERTED' | 'FAILURE') => {
    moveStatus(ctx, status);
    ctx.queue = [];
  };

  const scheduleRun = (ctx: Draft, candidates: Iterable<string>, step: Step) => {
    const max = limit(ctx);
    // Tasks the machine starts by itself in this microstep come first: their lanes are theirs.
    if (step.direct) for (const t of step.direct) if (rec(ctx, t).s === 'PENDING') start(ctx, t, step);
    drain(
      ctx,
      max,
      (t) => rec(ctx, t).s === 'PENDING',
      (t) => start(ctx, t, step),
    );
    const queued = new Set(ctx.queue);
    const added: string[] = [];
    const work = [...candidates];
    for (let i = 0; i < work.length; i++) {
      const t = work[i]!;
      if (rec(ctx, t).s !== 'PENDING' || queued.has(t)) continue;
      const r = readiness(ctx, t);
      if (r === 'ready') {
        if (ctx.busy < max) start(ctx, t, step);
        else {
          added.push(t);
          queued.add(t);
        }
      } else if (r === 'ignore') {
        setState(ctx, t, 'IGNORED', step);
        work.push(...graph.byName.get(t)!.dependents);
      }
    }
    if (added.length > 0) ctx.queue = [...ctx.queue, ...added];
    if (ctx.settled === total) finish(ctx, 'SUCCESS');
  };

  const scheduleRevert = (ctx: Draft, candidates: Iterable<string>, step: Step) => {
    const max = limit(ctx);
    drain(
      ctx,
      max,
      // A REVERT_FAILURE task is queued only by an operator's rollback (below), to try its revert again.
      (t) => revertible(ctx, t) || rec(ctx, t).s === 'REVERT_FAILURE',
      (t) => revert(ctx, t, step),
    );
    const queued = new Set(ctx.queue);
    const added: string[] = [];
    for (const t of candidates) {
      if (queued.has(t) || !revertible(ctx, t)) continue;
      if (ctx.busy < max) revert(ctx, t, step);
      else {
        added.push(t);
        queued.add(t);
      }
    }
    if (added.length > 0) ctx.queue = [...ctx.queue, ...added];
    if (ctx.busy > 0 || ctx.queue.length > 0) return;
    if (ctx.phase === 'revert') {
      finish(ctx, ctx.revertFailures.length > 0 ? 'FAILURE' : 'REVERTED');
      return;
    }
    // The retry scope is reverted: run it again, unless a revert failed (then everything reverts).
    const scope = ctx.retryScope!;
    const set = retrySet(scope);
    if ([...set].some((t) => rec(ctx, t).s === 'REVERT_FAILURE')) {
      enterRevert(ctx, step);
      return;
    }
    for (const t of set) {
      if (rec(ctx, t).s === 'PENDING') continue;
      setState(ctx, t, 'PENDING', step, () => ({ a: 0 }));
    }
    // Scopes nested in the retried one start afresh, as TaskFlow clears a reverted retry's history.
    const scopes = { ...ctx.scopes, [scope]: (ctx.scopes[scope] ?? 0) + 1 };
    for (const inner of nestedScopes(scope)) scopes[inner] = 0;
    ctx.scopes = scopes;
    movePhase(ctx, 'run');
    ctx.retryScope = null;
    moveStatus(ctx, 'RUNNING');
    schedule(ctx, 'all', step);
  };

  const schedule = (ctx: Draft, candidates: Iterable<string> | 'all', step: Step) => {
    if (isFinished(ctx.status)) return;
    const work = candidates === 'all' ? all : candidates;
    if (!ctx.suspended) {
      if (ctx.phase === 'run') scheduleRun(ctx, work, step);
      else scheduleRevert(ctx, work, step);
    }
    if (ctx.suspended && ctx.busy === 0) moveStatus(ctx, 'SUSPENDED');
  };

  /**
   * Stop retries in flight (of `only`'s tasks, if given); with `cancel` or `rollback`, abort running
   * executions too.
   */
  const abortWork = (
    ctx: Draft,
    step: Step,
    running: false | 'cancel' | 'rollback',
    only?: ReadonlySet<string>,
  ) => {
    for (const t of only ?? all) {
      const s = rec(ctx, t).s;
      if (running && s === 'RUNNING') {
        // A record made here, not from a live error: the same transition gives the same record.
        const f = stopped(running, ctx.runId);
        setState(ctx, t, 'FAILURE', step, (old) => ({ ...old, f }));
      } else if (s === 'RETRYING') setState(ctx, t, 'FAILURE', step);
      else continue;
      step.raise.push(`ABORT.${t}`);
    }
  };

  const enterRevert = (ctx: Draft, step: Step) => {
    movePhase(ctx, 'revert');
    ctx.retryScope = null;
    moveStatus(ctx, 'REVERTING');
    ctx.queue = [];
    abortWork(ctx, step, ctx.cancelled && 'cancel');
    schedule(ctx, 'all', step);
  };

  const onFailure = (ctx: Draft, task: string, step: Step) => {
    if (ctx.phase === 'revert') return;
    if (ctx.phase === 'retry' && retrySet(ctx.retryScope!).has(task)) return;
    const resolution = resolve(ctx, task);
    if (resolution === 'REVERT_ALL') {
      enterRevert(ctx, step);
      return;
    }
    if (
      ctx.phase === 'retry' &&
      !graph.scopes.get(resolution)!.tasks.has([...graph.scopes.get(ctx.retryScope!)!.tasks][0]!)
    ) {
      // A failure outside the scope being retried that would retry a scope not containing it: revert all.
      enterRevert(ctx, step);
      return;
    }
    movePhase(ctx, 'retry');
    ctx.retryScope = resolution;
    ctx.queue = [];
    // Only the retry set's waits stop (those tasks are reverted and run again): a task outside it waiting
    // for its next attempt keeps its backoff, as a running one keeps running.
    abortWork(ctx, step, false, retrySet(resolution));
    // Every done task of the retry set is a candidate, not only the failed one: a task that nothing
    // failing depends on (a leaf) would otherwise be reset to PENDING without being reverted.
    const byOrder = (a: string, b: string) => graph.byName.get(b)!.order - graph.byName.get(a)!.order;
    schedule(ctx, [...retrySet(resolution)].sort(byOrder), step);
  };

  const cancel = (ctx: Draft, step: Step) => {
    ctx.cancelled = true;
    if (ctx.phase !== 'revert') enterRevert(ctx, step);
    else {
      abortWork(ctx, step, 'cancel');
      // The executes just aborted may have done part of their work: they are reverted like any that ran.
      schedule(ctx, 'all', step);
    }
  };

  const rollback = (ctx: Draft, step: Step, interrupted: boolean) => {
    moveStatus(ctx, 'REVERTING');
    ctx.suspended = false;
    // A taken-over run's executes in flight run nowhere: rehydrating would start them again (a new side
    // effect) only to revert them, so they are stopped before their durability barrier lets them begin.
    // A live run's executes are running: they finish (a revert must not overtake its execute), then
    // revert like the others.
    if (interrupted) abortWork(ctx, step, 'rollback');
    if (ctx.phase !== 'revert') {
      enterRevert(ctx, step);
      return;
    }
    // A revert that threw is tried again (its cause fixed, the operator says): its dependencies
    // follow once it succeeds. The run ends REVERTED unless a revert throws again.
    const failed = all.filter((t) => rec(ctx, t).s === 'REVERT_FAILURE');
    if (failed.length > 0) {
      ctx.revertFailures = [];
      ctx.queue = [...ctx.queue, ...failed.filter((t) => !ctx.queue.includes(t))];
    }
    schedule(ctx, 'all', step);
  };

  const startsWith = (ctx: RunContext, dep: string, task: string): boolean => {
    if (!direct.get(dep)?.has(task)) return false;
    if (ctx.phase !== 'run' || ctx.suspended || ctx.concurrency !== 0) return false;
    if (rec(ctx, task).s !== 'PENDING') return false;
    const node = graph.byName.get(task)!;
    return node.deciders.length === 0 && node.deps.every((d) => d === dep || rec(ctx, d).s === 'SUCCESS');
  };

  const listensFor = (dep: string, task: string) => direct.get(dep)?.has(task) ?? false;

  return {
    schedule,
    onFailure,
    cancel,
    rollback,
    setState,
    startsWith,
    listensFor,
    value,
    encodedArgs,
    key,
  };
}

/** The failure recorded for a task whose execute a cancel or a rollback stopped (the error's record, no stack). */
function stopped(by: 'cancel' | 'rollback', runId: string): FailureRecord {
  const error = by === 'cancel' ? new CancelledError(runId) : new RolledBackError(runId);
  const { stack: _stack, ...record } = toFailureRecord(error);
  return record;
}
