import { initialTransition, transition } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import type { Flow } from '../flow/types.js';
import { expectNumberOption } from '../model/expect-option.js';
import { parseTaskActorId } from '../model/names.js';
import type { RunStatus } from '../model/run-status.js';
import {
  type FlowEvent,
  type FlowSnapshot,
  type FlowTraversal,
  type FlowTraversalOptions,
  flowTraversal,
  type PathStep,
} from './flow-traversal.js';
import { randomSeed, seededRandom } from './random.js';

/** One way a run of the flow can go: the task outcomes in order, and how the run ends. */
export interface FlowPath {
  /** Readable summary, e.g. `a:success b:failure b:reverted a:reverted → REVERTED`. */
  name: string;
  steps: readonly PathStep[];
  /** `SUCCESS`, `REVERTED` or `FAILURE`; anything else means the model got stuck (a scheduler bug). */
  status: RunStatus;
  /** Calls in flight before each step (`execute:<task>`, `revert:<task>`): what a replay waits for. */
  inFlight: readonly (readonly string[])[];
}

export interface FlowPathsOptions extends FlowTraversalOptions {
  /** Above this many paths (or `maxStates` explored), paths are sampled instead. @default 200 */
  maxPaths?: number;
  /** Distinct states the exhaustive walk may key before it gives up and samples. @default 2_000 */
  maxStates?: number;
  /** Seed of the sample (used only when sampling). @default a random seed, returned in the result */
  seed?: number;
  /** Chance that a sampled execute (or revert, with `revertFailures`) fails. @default 1 / number of tasks */
  failureRate?: number;
}

export interface FlowPathSet {
  paths: FlowPath[];
  /** True when `paths` are all the flow's paths (up to interleavings ending in the same outcomes). */
  exhaustive: boolean;
  /** The sample's seed: pass it back as `seed` to get the same paths. */
  seed: number;
  /** Model states visited: distinct keys of the exhaustive walk, plus the sample's steps when sampling. */
  states: number;
}

/** A path as `xstate/graph` gives it: each step is an event and the state it led to (the first is `xstate.init`). */
type GraphSteps = readonly { state: FlowSnapshot; event: FlowEvent }[];

/** Thrown inside the exhaustive walk when it passes `maxStates` or `maxPaths`: sample instead. */
class OverBudget extends Error {}

/**
 * Enumerate the ways a run of `flow` can go: every combination of task successes and failures (and,
 * with `revertFailures`, failing reverts), retries of retry scopes included, each with the run's final
 * status. Small flows are walked exhaustively by `xstate/graph`'s `getShortestPaths`, with the state key
 * and events of `flowTraversal`; above `maxPaths` paths (or `maxStates`), a seeded random sample of
 * `maxPaths` paths is drawn instead.
 *
 * Interleavings of parallel tasks that end in the same per-task outcomes count as one path; an
 * interleaving that changes what runs (a sibling fails before a task could start) is a path of its own.
 *
 * @example
 * const { paths } = flowPaths(linear('chain', [a, b, c]));
 * paths.map((p) => p.name);
 * // ['a:success b:success c:success → SUCCESS', 'a:success b:success c:failure c:reverted b:reverted a:reverted → REVERTED', …]
 */
export function flowPaths(flow: Flow, options: FlowPathsOptions = {}): FlowPathSet {
  const maxPaths = expectNumberOption('maxPaths', options.maxPaths ?? 200, 1, true);
  const maxStates = expectNumberOption('maxStates', options.maxStates ?? 2_000, 1, true);
  expectNumberOption('maxFailures', options.maxFailures ?? Number.POSITIVE_INFINITY, 0);
  const seed = options.seed ?? randomSeed();
  const traversal = flowTraversal(flow, options);
  const found = exhaustive(traversal, maxPaths, maxStates);
  if (found.paths) return { paths: found.paths, exhaustive: true, seed, states: found.states };
  const failureRate = options.failureRate ?? 1 / traversal.tasks.length;
  const sampled = sample(traversal, maxPaths, seededRandom(seed), failureRate);
  return { paths: sampled.paths, exhaustive: false, seed, states: found.states + sampled.states };
}

/**
 * Every path to a state where the run ended, by `getShortestPaths`: one per end state, and since every
 * path to a state has the same length (one step per outcome in its histories), the shortest is the
 * first in the events' order. Sorted the same way: in the order of the events taken, success first.
 */
function exhaustive(traversal: FlowTraversal, maxPaths: number, maxStates: number) {
  const keys = new Set<string>();
  let ends = 0;
  // The budget is counted where XState keys a state: the walk stops as soon as it is spent.
  const serializeState = (snapshot: FlowSnapshot, event?: FlowEvent, previous?: FlowSnapshot) => {
    const key = traversal.serializeState(snapshot, event, previous);
    if (!keys.has(key)) {
      keys.add(key);
      if (keys.size > maxStates) throw new OverBudget();
      if (traversal.toState(snapshot) && ++ends > maxPaths) throw new OverBudget();
    }
    return key;
  };
  try {
    const found = getShortestPaths(traversal.machine, {
      input: traversal.input,
      serializeState,
      events: traversal.events,
      toState: traversal.toState,
    });
    const paths = found.map((p) => toPath(traversal, p.steps));
    paths.sort((x, y) => compareChoices(x.choices, y.choices));
    return { paths: paths.map((p) => p.path), states: keys.size };
  } catch (error) {
    if (error instanceof OverBudget) return { paths: undefined, states: keys.size };
    throw error;
  }
}

/** Random walks: pick a call in flight uniformly, fail it with `failureRate`; keep distinct end states. */
function sample(traversal: FlowTraversal, maxPaths: number, random: () => number, failureRate: number) {
  const { machine, events, serializeState } = traversal;
  const byKey = new Map<string, FlowPath>();
  let states = 0;
  for (let walk = 0; walk < maxPaths * 10 && byKey.size < maxPaths; walk++) {
    let [state] = initialTransition(machine, traversal.input);
    serializeState(state);
    const steps: { state: FlowSnapshot; event: FlowEvent }[] = [{ state, event: { type: 'xstate.init' } }];
    for (let offered = events(state); offered.length > 0; offered = events(state)) {
      // A backoff sleep is offered alone and always ends: no choice, no random number drawn.
      const sleep = traversal.stepOf(offered[0]!) === undefined;
      const event = sleep ? offered[0]! : pick(traversal, offered, random, failureRate);
      const [next] = transition(machine, state, event);
      serializeState(next, event, state);
      steps.push({ state: next, event });
      state = next;
      states += 1;
    }
    // Like the exhaustive walk, interleavings that end in the same state (same per-task outcomes) are one path.
    const key = serializeState(state);
    if (!byKey.has(key)) byKey.set(key, toPath(traversal, steps).path);
  }
  return { paths: [...byKey.values()], states };
}

/** One call in flight, chosen uniformly; it fails with `failureRate` where failing is offered. */
function pick(traversal: FlowTraversal, offered: FlowEvent[], random: () => number, failureRate: number) {
  const calls = [...new Set(offered.map((e) => traversal.stepOf(e)?.task))];
  const task = calls[Math.floor(random() * calls.length)];
  const mine = offered.filter((e) => traversal.stepOf(e)?.task === task);
  const bad = mine.length > 1 && random() < failureRate;
  return mine[bad ? 1 : 0]!;
}

/** A path of the flow from XState's steps; backoff sleeps ending are not steps of their own. */
function toPath(traversal: FlowTraversal, graphSteps: GraphSteps) {
  const steps: PathStep[] = [];
  const inFlight: string[][] = [];
  const choices: number[] = [];
  for (let i = 1; i < graphSteps.length; i++) {
    const before = graphSteps[i - 1]!.state;
    const { event } = graphSteps[i]!;
    const step = traversal.stepOf(event);
    if (!step) continue;
    steps.push(step);
    inFlight.push(traversal.busy(before));
    choices.push(traversal.events(before).findIndex((e) => e.type === event.type));
  }
  const status = graphSteps.at(-1)!.state.context.status;
  const name = `${steps.map((s) => `${s.task}:${s.outcome}`).join(' ')} → ${status}`;
  const path: FlowPath = { name, steps, status, inFlight };
  // `${path}` and String(path) print the summary, not [object Object]; not enumerable, so the path
  // stays plain data (JSON, deep equality).
  Object.defineProperty(path, 'toString', { value: () => name, enumerable: false });
  return { path, choices };
}

function compareChoices(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A call in flight (`execute:<task>`, `revert:<task>`: the task actor's id) as its kind and task. */
export function splitCall(call: string): ['execute' | 'revert', string] {
  const { kind, task } = parseTaskActorId(call)!;
  return [kind as 'execute' | 'revert', task];
}
