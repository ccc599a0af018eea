import { enqueueActions, setup } from 'xstate';
import { DeliveryExhaustedError, NotSerializableError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { actorOfOutcome, parseTaskActorId } from '../model/names.js';
import type { TaskState } from '../model/task-states.js';
import type { Failed } from './effect-actor.js';
import { buildFlowGraph, type FlowGraph } from './flow-graph.js';
import { structuralHash } from './hash.js';
import { laneRegion, type TaskEventKind } from './lane-states.js';
import { computeLanes, directStarts, type Lanes, laneName, MAX_LANES_PER_EVENT } from './lanes.js';
import { initialContext, type RunContext, type RunInput } from './run-context.js';
import { createReducer, type Reduced, type RunEventKind, type RunReducer } from './run-reducer.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { childMoves } from './spawned-tasks.js';
import { createTaskActors, type TaskHooks } from './task-actors.js';
import { taskMachines } from './task-machines.js';
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

/**
 * How the machine holds its busy tasks. XState's work per event grows with the machine's active regions,
 * so the shape follows the flow's width:
 * - `lanes`: one region per dependency chain (lanes.ts), each task a state of its lane that invokes the
 *   task's actors. A chain is a sequence of states, the cheapest XState shape for it.
 * - `spawned`, for flows of more than SPAWN_ABOVE_LANES chains: the run machine spawns a small task
 *   machine per busy task (task-machines.ts), holding that task's busy state, which invokes its actor.
 *   The run's work per event then does not grow with the number of tasks running (bench/PROFILE.md §2).
 * Both send the run the same outcome events (`xstate.done.actor.execute:<task>`, ...) and hold the same
 * context; they differ in the snapshot's state value and in what its children are.
 */
export type RunShape = 'lanes' | 'spawned';

/**
 * Flows of more chains than this compile to the spawned shape (fan10's 8 lanes stay lanes). It is below
 * MAX_LANES, so a machine's lanes are never shared: each chain has its own.
 */
export const SPAWN_ABOVE_LANES = MAX_LANES_PER_EVENT;

/**
 * The most tasks of one run busy at once in the spawned shape (more wait in the run's queue). XState
 * copies the run's map of children on every spawn and stop, so a run's cost per task grows with the
 * tasks it has running: a 1,000-wide fan-out all at once cost ~1.8 ms per task, 55 % of it in those
 * copies; with at most 100 busy, 0.4–0.8 ms. A lower bound is cheaper still for huge graphs (rand1000:
 * ~150 µs per task at 32, ~200 at 100) but makes a 100-wide fan-out wait: 100 lets it run at once.
 */
export const MAX_BUSY_TASKS = 100;

export interface CompiledFlow {
  flow: Flow;
  /** How the machine holds its busy tasks. */
  shape: RunShape;
  graph: FlowGraph;
  /** Structural hash: stored with each run, checked on resume. */
  hash: string;
  scheduler: Scheduler;
  /** The run's reducer, `(context, event) → (context', raised, changed)`: what the machine's actions do. */
  reducer: RunReducer;
  /** Tasks grouped into lanes (dependency chains): one machine region each in the `lanes` shape. */
  lanes: readonly (readonly string[])[];
  /** The XState v5 machine that runs the flow: busy tasks are states invoking their actors by name (see RunShape). */
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
    const shape: RunShape = lanes.lanes.length > SPAWN_ABOVE_LANES ? 'spawned' : 'lanes';
    // Spawned: no lane starts a task by itself, and no lane limits how many run at once.
    const scheduler =
      shape === 'lanes'
        ? createScheduler(graph, directStarts(graph, lanes))
        : createScheduler(graph, new Map(), MAX_BUSY_TASKS);
    const reducer = createReducer(graph, scheduler);
    compiled = {
      flow,
      shape,
      graph,
      hash: structuralHash(graph),
      scheduler,
      reducer,
      machine: buildMachine(graph, lanes, scheduler, reducer, shape),
      lanes: lanes.lanes,
    };
    cache.set(flow, compiled);
  }
  return compiled;
}

/** The machine with the engine's hooks (durability barrier, progress) in its task actors. */
export function machineWithHooks(compiled: CompiledFlow, hooks: TaskHooks) {
  const actors = createTaskActors(compiled.graph, hooks);
  return compiled.machine.provide({
    actors: compiled.shape === 'lanes' ? actors : { ...actors, ...taskMachines(actors) },
  } as never);
}

function buildMachine(
  graph: FlowGraph,
  lanes: Lanes,
  scheduler: Scheduler,
  reducer: RunReducer,
  shape: RunShape,
) {
  const taskNames = graph.tasks.map((t) => t.name);
  const scopeNames = [...graph.scopes.keys()];
  // Without the engine's hooks (it provides its own); both shapes' actors, so one setup types them all.
  const taskActors = createTaskActors(graph);

  /** The reducer's result as XState actions: assign the context, raise what it raised, emit what changed. */
  const flush = (
    step: Reduced,
    before: RunContext,
    enqueue: {
      assign: (c: RunContext) => void;
      raise: (e: { type: string; lanes?: readonly number[] }) => void;
      emit: (e: RunStepEvent) => void;
      spawnChild: (src: never, options: { id: string; input: never }) => void;
      stopChild: (id: string) => void;
    },
  ) => {
    enqueue.assign(step.context);
    if (shape === 'spawned') {
      // The task machines follow the records: stopped when their task leaves a busy state, spawned for one.
      for (const move of childMoves(graph, scheduler, before, step)) {
        if (move.kind === 'stop') enqueue.stopChild(move.id);
        else enqueue.spawnChild(move.src as never, { id: move.id, input: move.input as never });
      }
    }
    // A few lanes to move: one WAKE moves them all in one microstep. Many: one event each, since XState
    // resolves the transitions of one event pairwise.
    else if (step.raise.length > MAX_LANES_PER_EVENT) for (const type of step.raise) enqueue.raise({ type });
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
   * guard instead of checking each of its tasks' records (a lane may hold a long chain).
   */
  const wokenLanes = (raised: readonly string[]): number[] => {
    const woken: number[] = [];
    for (const type of raised) {
      const lane = lanes.laneOf.get(type.slice(type.indexOf('.') + 1));
      if (lane !== undefined && !woken.includes(lane)) woken.push(lane);
    }
    return woken;
  };

  /** Attempts are left and the error is one a new attempt can fix. */
  const canRetry = (context: RunContext, error: unknown, task: string): boolean => {
    const rec = recordOf(graph, context, task);
    const node = graph.byName.get(task)!;
    return (
      // Not while suspended either: a retrying task is a running task finishing its work.
      context.phase === 'run' &&
      rec.a < node.task.retry.attempts &&
      // Neither a value that cannot be stored nor a task whose workers keep dying gets better by retrying.
      !(
        (error as Failed | undefined)?.error instanceof NotSerializableError ||
        (error as Failed | undefined)?.error instanceof DeliveryExhaustedError
      )
    );
  };

  /**
   * Spawned shape: what a task machine's outcome is to the run, from the busy state its task's record is
   * in (a stale outcome, for a task no longer in that state, is none).
   */
  const outcomeKind = (context: RunContext, event: { type: string; error?: unknown }) => {
    const actor = parseTaskActorId(actorOfOutcome(event.type) ?? '');
    if (!actor) return undefined;
    const state = recordOf(graph, context, actor.task).s;
    const failed = event.type.startsWith('xstate.error.');
    let kind: TaskEventKind | undefined;
    if (actor.kind === 'execute' && state === 'RUNNING') {
      kind = !failed ? 'done' : canRetry(context, event.error, actor.task) ? 'retry' : 'failed';
    } else if (actor.kind === 'sleep' && state === 'RETRYING' && !failed) kind = 'slept';
    else if (actor.kind === 'revert' && state === 'REVERTING') kind = failed ? 'revertFailed' : 'reverted';
    return kind && { task: actor.task, kind };
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
    actors: { ...taskActors, ...taskMachines(taskActors) },
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
      canRetry: ({ context, event }, params: { task: string }) => canRetry(context, event.error, params.task),
    },
    actions: {
      /** A task's actor finished or its state was forced: the reducer's step, applied. */
      onTask: enqueueActions(({ context, event, enqueue }, params: { task: string; kind: TaskEventKind }) => {
        flush(reducer.onTask(context, event, params), context, enqueue as never);
      }),
      /** Spawned shape: a task machine finished or failed: the reducer's step for what that means. */
      onOutcome: enqueueActions(({ context, event, enqueue }) => {
        const outcome = outcomeKind(context, event);
        if (outcome) flush(reducer.onTask(context, event, outcome), context, enqueue as never);
      }),
      /** Run-level commands: start, suspend, resume (also after rehydration), cancel, rollback. */
      onRun: enqueueActions(({ context, event, enqueue }, params: { kind: RunEventKind }) => {
        const step = reducer.onRun(context, event, params);
        if (step) flush(step, context, enqueue as never);
      }),
    },
  }).createMachine({
    id: graph.name,
    // Spawned: the run has no states of its own (its value is `{}`); its busy tasks are its children.
    ...(shape === 'lanes' ? { type: 'parallel' as const } : {}),
    context: ({ input }) => initialContext(taskNames, scopeNames, input),
    entry: { type: 'onRun', params: { kind: 'start' } },
    on: {
      SUSPEND: { actions: { type: 'onRun', params: { kind: 'suspend' } } },
      RESUME: { actions: { type: 'onRun', params: { kind: 'resume' } } },
      CANCEL: { actions: { type: 'onRun', params: { kind: 'cancel' } } },
      ROLLBACK: { actions: { type: 'onRun', params: { kind: 'rollback' } } },
      ...(shape === 'spawned'
        ? {
            'xstate.done.actor.*': { actions: 'onOutcome' as const },
            'xstate.error.actor.*': { actions: 'onOutcome' as const },
          }
        : {}),
    },
    states:
      shape === 'lanes'
        ? Object.fromEntries(
            lanes.lanes.map((lane, i) => [laneName(i), laneRegion(graph, lanes, lane, i, scheduler)]),
          )
        : {},
  });
}
