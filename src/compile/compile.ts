import { enqueueActions, setup } from 'xstate';
import { DeliveryExhaustedError, NotSerializableError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import type { TaskState } from '../model/task-states.js';
import type { Failed } from './effect-actor.js';
import { buildFlowGraph, type FlowGraph } from './flow-graph.js';
import { structuralHash } from './hash.js';
import { laneRegion, type TaskEventKind } from './lane-states.js';
import { computeLanes, directStarts, type Lanes, laneName, MAX_LANES_PER_EVENT } from './lanes.js';
import { initialContext, type RunContext, type RunInput } from './run-context.js';
import { createReducer, type Reduced, type RunEventKind, type RunReducer } from './run-reducer.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createTaskActors, type TaskHooks } from './task-actors.js';
import { recordOf } from './task-records.js';

export type { TaskChange, TaskStateEvent } from './scheduler.js';

/**
 * Emitted by the run actor once per step of its reducer (`actor.on('step', ...)`): the reducer's result
 * without the context: each task change with its new record, whether the queue or a failure list was
 * replaced, the new run status. The engine's writer stores exactly this (the parts it names, the history
 * events it lists); the machine keeps nothing else that a write would need.
 */
export interface RunStepEvent extends Omit<Reduced, 'context' | 'raise'> {
  type: 'step';
}

export interface CompiledFlow {
  flow: Flow;
  graph: FlowGraph;
  /** Structural hash: stored with each run, checked on resume. */
  hash: string;
  scheduler: Scheduler;
  /** The run's reducer, `(context, event) → (context', raised, changed)`: what the machine's actions do. */
  reducer: RunReducer;
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
    const reducer = createReducer(graph, scheduler);
    compiled = {
      flow,
      graph,
      hash: structuralHash(graph),
      scheduler,
      reducer,
      machine: buildMachine(graph, lanes, scheduler, reducer),
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

function buildMachine(graph: FlowGraph, lanes: Lanes, scheduler: Scheduler, reducer: RunReducer) {
  const taskNames = graph.tasks.map((t) => t.name);
  const scopeNames = [...graph.scopes.keys()];

  /** The reducer's result as XState actions: assign the context, raise what it raised, emit what changed. */
  const flush = (
    step: Reduced,
    enqueue: {
      assign: (c: RunContext) => void;
      raise: (e: { type: string; lanes?: readonly number[] }) => void;
      emit: (e: RunStepEvent) => void;
    },
  ) => {
    enqueue.assign(step.context);
    // A few lanes to move: one WAKE moves them all in one microstep. Many: one event each, since XState
    // resolves the transitions of one event pairwise.
    if (step.raise.length > MAX_LANES_PER_EVENT) for (const type of step.raise) enqueue.raise({ type });
    else if (step.raise.length > 0) enqueue.raise({ type: 'WAKE', lanes: wokenLanes(step.raise) });
    const event: RunStepEvent = {
      type: 'step',
      changed: step.changed,
      at: step.at,
      queueChanged: step.queueChanged,
      failuresChanged: step.failuresChanged,
    };
    if (step.status) event.status = step.status;
    enqueue.emit(event);
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
      emitted: {} as RunStepEvent,
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
      /** A task's actor finished or its state was forced: the reducer's step, applied. */
      onTask: enqueueActions(({ context, event, enqueue }, params: { task: string; kind: TaskEventKind }) => {
        flush(reducer.onTask(context, event, params), enqueue);
      }),
      /** Run-level commands: start, suspend, resume (also after rehydration), cancel, rollback. */
      onRun: enqueueActions(({ context, event, enqueue }, params: { kind: RunEventKind }) => {
        const step = reducer.onRun(context, event, params);
        if (step) flush(step, enqueue);
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
