import { toFailureRecord } from '../model/failure-record.js';
import { isFinished, type RunStatus } from '../model/run-status.js';
import type { Failed, Settled } from './effect-actor.js';
import type { FlowGraph } from './flow-graph.js';
import type { TaskEventKind } from './lane-states.js';
import type { RunContext, RunInput } from './run-context.js';
import { moveStatus } from './run-moves.js';
import type { Scheduler, Step } from './scheduler.js';
import { RecordWriter } from './task-records.js';

/**
 * The run's reducer: `(context, event) → (context', raised, changed)`, a pure function of its
 * arguments (invariant 9). The machine's `onTask` / `onRun` actions call it and turn its result into
 * XState's assign, raise and emit; a tool holding a snapshot can call it too (`compile(flow).reducer`),
 * without an actor. It copies only what it touches (task-records.ts), and reads the time from the
 * event, never from the clock.
 */
export interface Reduced {
  /** The next context (the one given is left as it was). */
  context: RunContext;
  /** Events to raise, in order (`START.<task>`, `REVERT.<task>`, ...). */
  raise: string[];
  /** Task state changes, in order, each with the task's new record. */
  changed: Step['changed'];
  /** The time of the event (epoch ms). */
  at: number;
  /** Whether the step replaced the queue of waiting tasks (its stored part changes). */
  queueChanged: boolean;
  /** Whether the step replaced a failure list (`failures` or `revertFailures`). */
  failuresChanged: boolean;
  /** The run's status after the step, when the step changed it. */
  status?: RunStatus;
}

/** What a run-level command is: start, suspend, resume (also after rehydration), cancel, rollback. */
export type RunEventKind = 'start' | 'suspend' | 'resume' | 'cancel' | 'rollback';

/** The events the reducer reads: an actor's outcome (`output` or `error`, with its time) or a command. */
export interface ReducerEvent {
  type: string;
  output?: unknown;
  error?: unknown;
  /** A command's time (epoch ms). */
  at?: number;
  /** ROLLBACK right after a takeover: the executes in flight died with their process. */
  interrupted?: boolean;
  input?: RunInput;
}

export function createReducer(graph: FlowGraph, scheduler: Scheduler) {
  const retryDelay = (name: string, attempt: number) => {
    const { backoffMs, factor, maxBackoffMs } = graph.byName.get(name)!.task.retry;
    return Math.min(maxBackoffMs, backoffMs * factor ** (attempt - 1));
  };
  const reduced = (context: RunContext, draft: RunContext, step: Step): Reduced => {
    const result: Reduced = {
      context: draft,
      raise: step.raise,
      changed: step.changed,
      at: step.at,
      queueChanged: draft.queue !== context.queue,
      failuresChanged: draft.failures !== context.failures || draft.revertFailures !== context.revertFailures,
    };
    if (draft.status !== context.status) result.status = draft.status;
    return result;
  };

  /** A task's actor finished, or its state was forced: update the context and schedule what follows. */
  const onTask = (
    context: RunContext,
    event: ReducerEvent,
    params: { task: string; kind: TaskEventKind },
  ): Reduced => {
    // A pure step: the draft is a copy, records are replaced (never changed in place), and the time
    // is the one the actor stamped on its outcome.
    const draft: RunContext = { ...context };
    const settled = (event.output ?? event.error) as Settled<unknown> | Failed;
    const step: Step = {
      raise: [],
      changed: [],
      records: new RecordWriter(graph, draft),
      at: settled.at,
    };
    const { task } = params;
    const node = graph.byName.get(task)!;
    const thrown = () => toFailureRecord((settled as Failed).error);
    switch (params.kind) {
      case 'done': {
        if (draft.phase === 'run') {
          step.direct = node.dependents.filter((t) => scheduler.startsWith(context, task, t));
        }
        // From RUNNING: its attempt and start time stay, the result is new (no failure, no backoff).
        scheduler.setState(draft, task, 'SUCCESS', step, (old) => ({
          a: old.a,
          st: old.st,
          r: (settled as Settled<unknown>).value,
        }));
        scheduler.schedule(draft, draft.phase === 'run' ? node.dependents : [task], step);
        break;
      }
      case 'retry':
        scheduler.setState(draft, task, 'RETRYING', step, (old) => ({
          ...old,
          f: thrown(),
          at: step.at + retryDelay(task, old.a),
        }));
        break;
      case 'slept':
        // The next attempt: while RETRYING, `a` is still the attempt that failed.
        scheduler.setState(draft, task, 'RUNNING', step, (old) => ({ ...old, at: undefined, a: old.a + 1 }));
        break;
      case 'failed': {
        const failure = thrown();
        draft.failures = [...draft.failures, { task, failure }];
        scheduler.setState(draft, task, 'FAILURE', step, (old) => ({ ...old, f: failure }));
        scheduler.onFailure(draft, task, step);
        scheduler.schedule(draft, [task], step);
        break;
      }
      case 'reverted':
        scheduler.setState(draft, task, 'REVERTED', step);
        scheduler.schedule(draft, node.deps, step);
        break;
      case 'revertFailed': {
        const failure = thrown();
        draft.revertFailures = [...draft.revertFailures, { task, failure }];
        scheduler.setState(draft, task, 'REVERT_FAILURE', step, (old) => ({ ...old, f: failure }));
        scheduler.schedule(draft, [], step);
        break;
      }
    }
    return reduced(context, draft, step);
  };

  /** A run-level command; undefined when it changes nothing (a command after the run finished). */
  const onRun = (
    context: RunContext,
    event: ReducerEvent,
    params: { kind: RunEventKind },
  ): Reduced | undefined => {
    const draft: RunContext = { ...context };
    // Commands carry their time (`at`, stamped by whoever sends them); the first step takes the input's.
    const at = event.at ?? event.input?.at ?? 0;
    const step: Step = { raise: [], changed: [], records: new RecordWriter(graph, draft), at };
    const finished = isFinished(draft.status);
    switch (params.kind) {
      case 'start':
        scheduler.schedule(draft, 'all', step);
        break;
      case 'suspend':
        if (finished) return undefined;
        draft.suspended = true;
        scheduler.schedule(draft, [], step);
        break;
      case 'resume':
        if (finished) return undefined;
        draft.suspended = false;
        moveStatus(draft, draft.phase === 'revert' ? 'REVERTING' : 'RUNNING');
        scheduler.schedule(draft, 'all', step);
        break;
      case 'cancel':
        if (finished) return undefined;
        draft.suspended = false;
        scheduler.cancel(draft, step);
        break;
      case 'rollback':
        if (draft.status === 'REVERTED') return undefined;
        scheduler.rollback(draft, step, event.interrupted === true);
        break;
    }
    return reduced(context, draft, step);
  };

  return { onTask, onRun };
}

export type RunReducer = ReturnType<typeof createReducer>;
