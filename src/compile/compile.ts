import { enqueueActions, setup } from 'xstate';
import { DeliveryExhaustedError, NotSerializableError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { toFailureRecord } from '../model/failure-record.js';
import { isFinished } from '../model/run-status.js';
import type { TaskState } from '../model/task-states.js';
import type { Failed, Settled } from './effect-actor.js';
import { buildFlowGraph, type FlowGraph } from './flow-graph.js';
import { structuralHash } from './hash.js';
import { laneRegion, type TaskEventKind } from './lane-states.js';
import { computeLanes, directStarts, type Lanes, laneName, MAX_LANES_PER_EVENT } from './lanes.js';
import { initialContext, type RunContext, type RunInput } from './run-context.js';
import { moveStatus } from './run-moves.js';
import { createScheduler, type Scheduler, type Step } from './scheduler.js';
import { createTaskActors, type TaskHooks } from './task-actors.js';
import { RecordWriter, recordOf } from './task-records.js';

/** Emitted by the run actor on every task state change (`actor.on('task', ...)`). */
export interface TaskStateEvent {
  type: 'task';
  task: string;
  state: TaskState;
  attempt: number;
  /** When (epoch ms): the time carried by the event that caused the change. */
  at: number;
}

type RunEventKind = 'start' | 'suspend' | 'resume' | 'cancel' | 'rollback';

export interface CompiledFlow {
  flow: Flow;
  graph: FlowGraph;
  /** Structural hash: stored with each run, checked on resume. */
  hash: string;
  scheduler: Scheduler;
  /** Tasks grouped into lanes (dependency chains): one machine region each. */
  lanes: readonly (readonly string[])[];
  /** The XState v5 machine that runs the flow: one region per lane, each task a state invoking its actors by name. */
  machine: ReturnType<typeof buildMachine>;
}

const cache = new WeakMap<Flow, CompiledFlow>();

/**
 * Compile a flow into an XState v5 machine. The same flow object always gives the same compiled
 * machine (cached); `machine` is what engines run (they only `.provide()` their hooks).
 *
 * @example
 * const { machine } = compile(bootServer);
 * createActor(machine, { input: { runId: 'r1', inputs: { network: 'n1' } } }).start();
 */
export function compile(flow: Flow): CompiledFlow {
  let compiled = cache.get(flow);
  if (!compiled) {
    const graph = buildFlowGraph(flow);
    const lanes = computeLanes(graph);
    const scheduler = createScheduler(graph, directStarts(graph, lanes), lanes);
    compiled = {
      flow,
      graph,
      hash: structuralHash(graph),
      scheduler,
      machine: buildMachine(graph, lanes, scheduler),
      lanes: lanes.lanes,
    };
    cache.set(flow, compiled);
  }
  return compiled;
}

/** The machine with the engine's hooks (durability barrier, progress) in its task actors. */
export function machineWithHooks(compiled: CompiledFlow, hooks: TaskHooks) {
  return compiled.machine.provide({ actors: createTaskActors(compiled.graph, hooks) });
}

function buildMachine(graph: FlowGraph, lanes: Lanes, scheduler: Scheduler) {
  const taskNames = graph.tasks.map((t) => t.name);
  const scopeNames = [...graph.scopes.keys()];

  const flush = (
    draft: RunContext,
    step: Step,
    enqueue: {
      assign: (c: RunContext) => void;
      raise: (e: { type: string; lanes?: readonly number[] }) => void;
      emit: (e: TaskStateEvent) => void;
    },
  ) => {
    enqueue.assign(draft);
    // A few lanes to move: one WAKE moves them all in one microstep. Many: one event each, since XState
    // resolves the transitions of one event pairwise.
    if (step.raise.length > MAX_LANES_PER_EVENT) for (const type of step.raise) enqueue.raise({ type });
    else if (step.raise.length > 0) enqueue.raise({ type: 'WAKE', lanes: wokenLanes(step.raise) });
    for (const change of step.changed) enqueue.emit({ type: 'task', ...change, at: step.at });
  };

  /**
   * The lanes a WAKE concerns (those of the tasks it moves): every other idle lane passes it with one
   * guard instead of checking each of its tasks' records (wide flows have up to 32 lanes of many tasks).
   */
  const wokenLanes = (raised: readonly string[]): number[] => {
    const woken: number[] = [];
    for (const type of raised) {
      const lane = lanes.laneOf.get(type.slice(type.indexOf('.') + 1));
      if (lane !== undefined && !woken.includes(lane)) woken.push(lane);
    }
    return woken;
  };

  const retryDelay = (name: string, attempt: number) => {
    const { backoffMs, factor, maxBackoffMs } = graph.byName.get(name)!.task.retry;
    return Math.min(maxBackoffMs, backoffMs * factor ** (attempt - 1));
  };

  return setup({
    types: {
      context: {} as RunContext,
      input: {} as RunInput,
      events: {} as {
        type: string;
        output?: unknown;
        error?: unknown;
        /** WAKE: the lanes it moves. */
        lanes?: readonly number[];
        /** ROLLBACK right after a takeover: the executes in flight died with their process. */
        interrupted?: boolean;
      },
      emitted: {} as TaskStateEvent,
    },
    actors: createTaskActors(graph),
    guards: {
      /** A WAKE that moves no task of this lane (see wokenLanes). */
      notWoken: ({ event }, params: { lane: number }) => !event.lanes?.includes(params.lane),
      recordIs: ({ context }, params: { task: string; state: TaskState }) =>
        recordOf(graph, context, params.task).s === params.state,
      recordIsNot: ({ context }, params: { task: string; state: TaskState }) =>
        recordOf(graph, context, params.task).s !== params.state,
      /**
       * The task starts in the same microstep as its dependency's completion, by its lane's own
       * transition: it waits for nothing else (no other dependency, decider or concurrency limit).
       * Saves a WAKE microstep per started task; the scheduler reaches the same decision.
       */
      canStartAfter: ({ context }, params: { dep: string; task: string }) =>
        scheduler.startsWith(context, params.dep, params.task),
      /** Attempts are left and the error is one a new attempt can fix. */
      canRetry: ({ context, event }, params: { task: string }) => {
        const rec = recordOf(graph, context, params.task);
        const node = graph.byName.get(params.task)!;
        return (
          // Not while suspended either: a retrying task is a running task finishing its work.
          context.phase === 'run' &&
          rec.a < node.task.retry.attempts &&
          // Neither a value that cannot be stored nor a task whose workers keep dying gets better by retrying.
          !(
            (event.error as Failed | undefined)?.error instanceof NotSerializableError ||
            (event.error as Failed | undefined)?.error instanceof DeliveryExhaustedError
          )
        );
      },
    },
    actions: {
      /** A task's actor finished or its state was forced: update the context and schedule what follows. */
      onTask: enqueueActions(({ context, event, enqueue }, params: { task: string; kind: TaskEventKind }) => {
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
              step.direct = new Set(node.dependents.filter((t) => scheduler.startsWith(context, task, t)));
            }
            const { f: _f, ...rest } = step.records.get(task);
            scheduler.setState(draft, task, 'SUCCESS', step, () => ({
              ...rest,
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
            scheduler.setState(draft, task, 'RUNNING', step, ({ at: _at, ...rest }) => ({
              ...rest,
              a: rest.a + 1,
            }));
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
        flush(draft, step, enqueue);
      }),
      /** Run-level commands: start, suspend, resume (also after rehydration), cancel, rollback. */
      onRun: enqueueActions(({ context, event, enqueue }, params: { kind: RunEventKind }) => {
        const draft: RunContext = { ...context };
        // Commands carry their time (`at`, stamped by whoever sends them); the first step takes the input's.
        const at =
          (event as { at?: number; input?: RunInput }).at ?? (event as { input?: RunInput }).input?.at ?? 0;
        const step: Step = { raise: [], changed: [], records: new RecordWriter(graph, draft), at };
        const finished = isFinished(draft.status);
        switch (params.kind) {
          case 'start':
            scheduler.schedule(draft, 'all', step);
            break;
          case 'suspend':
            if (finished) return;
            draft.suspended = true;
            scheduler.schedule(draft, [], step);
            break;
          case 'resume':
            if (finished) return;
            draft.suspended = false;
            moveStatus(draft, draft.phase === 'revert' ? 'REVERTING' : 'RUNNING');
            scheduler.schedule(draft, 'all', step);
            break;
          case 'cancel':
            if (finished) return;
            draft.suspended = false;
            scheduler.cancel(draft, step);
            break;
          case 'rollback':
            if (draft.status === 'REVERTED') return;
            scheduler.rollback(draft, step, event.interrupted === true);
            break;
        }
        flush(draft, step, enqueue);
      }),
    },
  }).createMachine({
    id: graph.name,
    type: 'parallel',
    context: ({ input }) =>
      initialContext(taskNames, scopeNames, input, lanes.shared ? lanes.lanes.length : 0),
    entry: { type: 'onRun', params: { kind: 'start' } },
    on: {
      SUSPEND: { actions: { type: 'onRun', params: { kind: 'suspend' } } },
      RESUME: { actions: { type: 'onRun', params: { kind: 'resume' } } },
      CANCEL: { actions: { type: 'onRun', params: { kind: 'cancel' } } },
      ROLLBACK: { actions: { type: 'onRun', params: { kind: 'rollback' } } },
    },
    states: Object.fromEntries(
      lanes.lanes.map((lane, i) => [laneName(i), laneRegion(graph, lanes, lane, i, scheduler)]),
    ),
  });
}
