import { initialTransition, transition } from 'xstate';
import { type CompiledFlow, compile } from '../compile/compile.js';
import type { RunContext } from '../compile/run-context.js';
import { recordOf } from '../compile/task-records.js';
import type { Flow } from '../flow/types.js';
import { encodeValue } from '../model/codec.js';
import { isFinished } from '../model/run-status.js';
import { InjectedFailureError } from './injected-failure.js';

/** How one execute or revert ended, as a path names it. */
export type StepOutcome = 'success' | 'failure' | 'reverted' | 'revert-failure';

/** One task outcome on a path. */
export interface PathStep {
  task: string;
  outcome: StepOutcome;
}

/** What a path may be driven with: which calls finish, and how. */
export interface ModelOptions {
  /** Run inputs (the same ones `testFlowPaths` starts the real run with). @default {} */
  inputs?: Record<string, unknown>;
  /** Results the model gives each task (what deciders and parameterized retries see). @default undefined for every task */
  results?: Record<string, unknown>;
  /** The run's concurrency limit, as `engine.start(…, { concurrency })`. @default 0 (none) */
  concurrency?: number;
}

type Snapshot = ReturnType<typeof initialTransition<CompiledFlow['machine']>>[0];

/** A state of the model: the machine's snapshot plus the per-task histories that led to it. */
export interface ModelState {
  snapshot: Snapshot;
  steps: readonly PathStep[];
  /** Calls in flight before each step (`execute:<task>` / `revert:<task>`): what a replay waits for. */
  inFlight: readonly (readonly string[])[];
  failures: number;
}

/**
 * The compiled machine driven without running anything: the pure `transition()` function is fed the
 * `xstate.done.actor.*` / `xstate.error.actor.*` events its invoked actors would send. This is the
 * machine the engine runs, scheduler included, so the model's paths are the engine's paths.
 *
 * Why not `xstate/graph`? Its traversal keys states by a serialiser, and the one that keeps paths sane
 * (`[value, context.status]`) forgets a retry scope's iteration, so "failed, retried, failed again"
 * folds into the first try; it also walks every interleaving of parallel tasks, which explodes
 * (fan-out 4 ≈ 4,500 states). Keying by the per-task histories instead merges interleavings that
 * end in the same outcomes and keeps the retries apart.
 */
export function createPathModel(flow: Flow, options: ModelOptions = {}) {
  const compiled = compile(flow);
  const { machine, graph } = compiled;
  const order = graph.tasks.map((t) => t.name);
  const inputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.inputs ?? {}))
    inputs[name] = encodeValue(value, `inputs.${name}`);
  // Transitions are pure: a snapshot shared by two branches of the walk stays as it was. Outcomes carry
  // their time as the task actors stamp it; the model's clock stands still at 0.
  const send = (snapshot: Snapshot, event: { type: string; output?: unknown; error?: unknown }) =>
    transition(machine, snapshot, event as never)[0];
  const rec = (snapshot: Snapshot, task: string) => recordOf(graph, snapshot.context, task);

  /** Backoff sleeps are not choices: they always end, so the model ends them at once (the replay drops backoffs). */
  const settleSleeps = (snapshot: Snapshot): Snapshot => {
    let next = snapshot;
    for (let again = true; again; ) {
      again = false;
      for (const task of order) {
        if (rec(next, task).s === 'RETRYING') {
          next = send(next, { type: `xstate.done.actor.sleep:${task}`, output: { value: undefined, at: 0 } });
          again = true;
        }
      }
    }
    return next;
  };

  const context = (state: ModelState): RunContext => state.snapshot.context;
  const busy = (state: ModelState): string[] => {
    return order.flatMap((t) => {
      const s = rec(state.snapshot, t).s;
      return s === 'RUNNING' ? [`execute:${t}`] : s === 'REVERTING' ? [`revert:${t}`] : [];
    });
  };

  return {
    compiled,
    order,
    initial(): ModelState {
      const [snapshot] = initialTransition(machine, {
        runId: 'path',
        inputs,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      });
      return { snapshot: settleSleeps(snapshot), steps: [], inFlight: [], failures: 0 };
    },
    /** Calls in flight, in topological order. */
    busy,
    /** The run ended (or can make no progress: a scheduler bug the path then shows). */
    ended(state: ModelState): boolean {
      const { status } = context(state);
      return isFinished(status) || busy(state).length === 0;
    },
    status: (state: ModelState) => context(state).status,
    /** Finish one call in flight with an outcome. */
    step(state: ModelState, task: string, outcome: StepOutcome): ModelState {
      const inFlight = [...state.inFlight, busy(state)];
      let snapshot: Snapshot;
      switch (outcome) {
        case 'success':
          snapshot = send(state.snapshot, {
            type: `xstate.done.actor.execute:${task}`,
            output: { value: encodeValue(options.results?.[task], '$', task), at: 0 },
          });
          break;
        case 'failure':
          snapshot = send(state.snapshot, {
            type: `xstate.error.actor.execute:${task}`,
            error: { error: new InjectedFailureError(task), at: 0 },
          });
          break;
        case 'reverted':
          snapshot = send(state.snapshot, {
            type: `xstate.done.actor.revert:${task}`,
            output: { value: undefined, at: 0 },
          });
          break;
        case 'revert-failure':
          snapshot = send(state.snapshot, {
            type: `xstate.error.actor.revert:${task}`,
            error: { error: new InjectedFailureError(task, 'revert'), at: 0 },
          });
          break;
      }
      return {
        snapshot: settleSleeps(snapshot),
        steps: [...state.steps, { task, outcome }],
        inFlight,
        failures: state.failures + (outcome === 'failure' ? 1 : 0),
      };
    },
    /** Identifies a state up to interleaving: machine state, scheduler context and per-task histories. */
    key(state: ModelState): string {
      const ctx = context(state);
      const histories = new Map<string, string[]>(order.map((t) => [t, []]));
      for (const { task, outcome } of state.steps) histories.get(task)!.push(outcome);
      const tasks = order.map((t) => [rec(state.snapshot, t).s, ...histories.get(t)!]);
      return JSON.stringify([tasks, ctx.scopes, ctx.phase, ctx.retryScope, ctx.status, ctx.queue]);
    },
  };
}

export type PathModel = ReturnType<typeof createPathModel>;
