import type { SnapshotFrom } from 'xstate';
import { type CompiledFlow, compile } from '../compile/compile.js';
import type { RunInput } from '../compile/run-context.js';
import { recordOf } from '../compile/task-records.js';
import { TaskweaveError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { encodeValue } from '../model/codec.js';
import { doneEventOf, errorEventOf, TASK_ACTORS, type TaskActorKind, taskActorId } from '../model/names.js';
import { isFinished } from '../model/run-status.js';
import { InjectedFailureError } from './injected-failure.js';

/** How one execute or revert ended, as a path names it. */
export type StepOutcome = 'success' | 'failure' | 'reverted' | 'revert-failure';

/** One task outcome on a path. */
export interface PathStep {
  task: string;
  outcome: StepOutcome;
}

/** What a traversal may drive the machine with: which calls finish, and how. */
export interface FlowTraversalOptions {
  /** Run inputs (the same ones `testFlowPaths` starts the real run with). @default {} */
  inputs?: Record<string, unknown>;
  /** Results the model gives each task (what deciders and parameterized retries see). @default undefined for every task */
  results?: Record<string, unknown>;
  /** The run's concurrency limit, as `engine.start(…, { concurrency })`. @default 0 (none) */
  concurrency?: number;
  /** Injected execute failures per path at most. @default Infinity */
  maxFailures?: number;
  /** Also offer reverts that throw (REVERT_FAILURE, run FAILURE). @default false */
  revertFailures?: boolean;
}

/** The events the compiled machine's invoked actors send: done/error of `execute:<task>`, `revert:<task>`, `sleep:<task>`. */
export interface FlowEvent {
  type: string;
  output?: unknown;
  error?: unknown;
}

export type FlowSnapshot = SnapshotFrom<CompiledFlow['machine']>;

/** The traversal options `xstate/graph` takes for a compiled flow, plus what the path tools read. */
export interface FlowTraversal {
  machine: CompiledFlow['machine'];
  /** The flow's tasks, in topological order (the order of `events`). */
  tasks: readonly string[];
  /** The run's input (`getShortestPaths(machine, { input })`). */
  input: RunInput;
  /**
   * The state key: per-task outcome histories (retries of a task or of a scope stay apart), each task's
   * state, and the scheduler's context. Interleavings that end in the same outcomes get the same key.
   */
  serializeState: (snapshot: FlowSnapshot, event?: FlowEvent, previous?: FlowSnapshot) => string;
  /** The events a state can take: each execute or revert in flight succeeds or fails; a backoff sleep ends. */
  events: (snapshot: FlowSnapshot) => FlowEvent[];
  /** The run ended (or can make no progress: a scheduler bug the path then shows). */
  toState: (snapshot: FlowSnapshot) => boolean;
  /** The task outcome an event stands for; `undefined` for a backoff sleep's end. */
  stepOf: (event: FlowEvent) => PathStep | undefined;
  /** Calls in flight (`execute:<task>`, `revert:<task>`), in topological order. */
  busy: (snapshot: FlowSnapshot) => string[];
}

/** A snapshot this traversal never keyed: its per-task histories are unknown. */
export class UnknownSnapshotError extends TaskweaveError {
  constructor(readonly event: string | undefined) {
    super(
      `Expected a snapshot keyed by this traversal's serializeState${event ? ` before \`${event}\`` : ''}, got one it never saw. Pass serializeState and events of one flowTraversal to xstate/graph together, and let the walk start from the machine's initial snapshot.`,
    );
  }
}

interface Keyed {
  key: string;
  /** Outcome letters per task, in topological order (s, f, r, x: success, failure, reverted, revert-failure). */
  histories: readonly string[];
  /** Injected execute failures so far (what `maxFailures` bounds). */
  failures: number;
}

const LETTERS: Record<StepOutcome, string> = {
  success: 's',
  failure: 'f',
  reverted: 'r',
  'revert-failure': 'x',
};
const { RUNNING, RETRYING, REVERTING } = TASK_ACTORS;
/** Which actor of which task an outcome event comes from, by the names the compiled machine uses. */
const ACTOR_EVENTS = new Map<string, { end: 'done' | 'error'; kind: TaskActorKind }>(
  [RUNNING.prefix, RETRYING.prefix, REVERTING.prefix].flatMap((kind) => [
    [doneEventOf(taskActorId(kind, '')), { end: 'done', kind }],
    [errorEventOf(taskActorId(kind, '')), { end: 'error', kind }],
  ]),
);

/**
 * What `xstate/graph` needs to walk a compiled flow: its `serializeState` and `events`. The per-task
 * outcome histories are not in the snapshot (a scope's retry puts its records back to PENDING), so the
 * key follows the walk: XState keys each snapshot with the event and the snapshot it came from, and the
 * traversal remembers every snapshot it keyed (snapshots are immutable, so a snapshot's key never changes).
 * Use one traversal per walk.
 *
 * @example
 * import { getShortestPaths } from 'xstate/graph';
 * const { machine, input, serializeState, events, toState } = flowTraversal(bootServer, { inputs: { network: 'n1' } });
 * const paths = getShortestPaths(machine, { input, serializeState, events, toState });
 * paths.length; // 7: one per way the run can end
 */
export function flowTraversal(flow: Flow, options: FlowTraversalOptions = {}): FlowTraversal {
  const { machine, graph } = compile(flow);
  const order = graph.tasks.map((t) => t.name);
  const index = new Map(order.map((t, i) => [t, i]));
  const maxFailures = options.maxFailures ?? Number.POSITIVE_INFINITY;
  const inputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.inputs ?? {}))
    inputs[name] = encodeValue(value, `inputs.${name}`);
  const input: RunInput = {
    runId: 'path',
    inputs,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  };
  const results = order.map((t) => encodeValue(options.results?.[t], '$', t));
  const state = (snapshot: FlowSnapshot, task: string) => recordOf(graph, snapshot.context, task).s;
  // One event per type, made on first use and offered again in every state that takes it (events are
  // never changed): building an InjectedFailureError (its stack trace) in every state the walk keyed
  // was ~10 % of a large flow's flowPaths. Outcomes carry their time as the task actors stamp it; the
  // traversal's clock stands still at 0.
  const made = new Map<string, FlowEvent>();
  const once = (type: string, make: () => FlowEvent): FlowEvent => {
    let event = made.get(type);
    if (!event) {
      event = make();
      made.set(type, event);
    }
    return event;
  };
  const done = (id: string, value: unknown): FlowEvent =>
    once(doneEventOf(id), () => ({ type: doneEventOf(id), output: { value, at: 0 } }));
  const error = (id: string, kind: 'execute' | 'revert', task: string): FlowEvent =>
    once(errorEventOf(id), () => ({
      type: errorEventOf(id),
      error: { error: new InjectedFailureError(task, kind), at: 0 },
    }));

  const stepOf = (event: FlowEvent): PathStep | undefined => {
    const colon = event.type.indexOf(':');
    const actor = colon < 0 ? undefined : ACTOR_EVENTS.get(event.type.slice(0, colon + 1));
    if (!actor || actor.kind === RETRYING.prefix) return undefined;
    const task = event.type.slice(colon + 1);
    const { end, kind } = actor;
    const outcome: StepOutcome =
      kind === RUNNING.prefix
        ? end === 'done'
          ? 'success'
          : 'failure'
        : end === 'done'
          ? 'reverted'
          : 'revert-failure';
    return { task, outcome };
  };

  const keyed = new WeakMap<FlowSnapshot, Keyed>();
  const root: Omit<Keyed, 'key'> = { histories: order.map(() => ''), failures: 0 };
  const serializeState = (snapshot: FlowSnapshot, event?: FlowEvent, previous?: FlowSnapshot): string => {
    const known = keyed.get(snapshot);
    if (known) return known.key;
    let { histories, failures } = root;
    if (event !== undefined && previous !== undefined) {
      const before = keyed.get(previous);
      if (!before) throw new UnknownSnapshotError(event.type);
      ({ histories, failures } = before);
      const step = stepOf(event);
      const at = step && index.get(step.task);
      if (step && at !== undefined) {
        histories = histories.with(at, histories[at] + LETTERS[step.outcome]);
        if (step.outcome === 'failure') failures += 1;
      }
    }
    const ctx = snapshot.context;
    const tasks = order.map((t, i) => `${state(snapshot, t)}:${histories[i]}`);
    const key = JSON.stringify([tasks, ctx.scopes, ctx.phase, ctx.retryScope, ctx.status, ctx.queue]);
    keyed.set(snapshot, { key, histories, failures });
    return key;
  };

  const events = (snapshot: FlowSnapshot): FlowEvent[] => {
    if (isFinished(snapshot.context.status)) return [];
    // Backoff sleeps are not choices: they always end, so they end first (the replay drops backoffs).
    const sleeping = order.find((t) => state(snapshot, t) === 'RETRYING');
    if (sleeping !== undefined) return [done(taskActorId(RETRYING.prefix, sleeping), undefined)];
    const canFail = maxFailures === Number.POSITIVE_INFINITY || failuresOf(snapshot) < maxFailures;
    return order.flatMap((task, i) => {
      switch (state(snapshot, task)) {
        case 'RUNNING': {
          const id = taskActorId(RUNNING.prefix, task);
          const ok = done(id, results[i]);
          return canFail ? [ok, error(id, 'execute', task)] : [ok];
        }
        case 'REVERTING': {
          const id = taskActorId(REVERTING.prefix, task);
          const ok = done(id, undefined);
          return options.revertFailures ? [ok, error(id, 'revert', task)] : [ok];
        }
        default:
          return [];
      }
    });
  };
  const failuresOf = (snapshot: FlowSnapshot): number => {
    const known = keyed.get(snapshot);
    if (!known) throw new UnknownSnapshotError(undefined);
    return known.failures;
  };

  return {
    machine,
    tasks: order,
    input,
    serializeState,
    events,
    toState: (snapshot) => events(snapshot).length === 0,
    stepOf,
    busy: (snapshot) =>
      order.flatMap((t) => {
        const s = state(snapshot, t);
        return s === 'RUNNING' || s === 'REVERTING' ? [taskActorId(TASK_ACTORS[s].prefix, t)] : [];
      }),
  };
}
