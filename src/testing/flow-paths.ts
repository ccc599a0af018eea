import { FlowDefinitionError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { expectNumberOption } from '../model/expect-option.js';
import type { RunStatus } from '../model/run-status.js';
import {
  createPathModel,
  type ModelOptions,
  type ModelState,
  type PathModel,
  type PathStep,
  type StepOutcome,
} from './path-model.js';
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

export interface FlowPathsOptions extends ModelOptions {
  /** Above this many paths (or `maxStates` explored), paths are sampled instead. @default 200 */
  maxPaths?: number;
  /** States the exhaustive walk may visit before it gives up and samples (each costs ~0.5 ms). @default 2_000 */
  maxStates?: number;
  /** Seed of the sample (used only when sampling). @default a random seed, returned in the result */
  seed?: number;
  /** Injected execute failures per path at most. @default Infinity */
  maxFailures?: number;
  /** Also explore reverts that throw (REVERT_FAILURE, run FAILURE). @default false */
  revertFailures?: boolean;
  /** Chance that a sampled execute (or revert, with `revertFailures`) fails. @default 1 / number of tasks */
  failureRate?: number;
}

export interface FlowPathSet {
  paths: FlowPath[];
  /** True when `paths` are all the flow's paths (up to interleavings ending in the same outcomes). */
  exhaustive: boolean;
  /** The sample's seed: pass it back as `seed` to get the same paths. */
  seed: number;
  /** Model states visited. */
  states: number;
}

/**
 * Enumerate the ways a run of `flow` can go: every combination of task successes and failures (and,
 * with `revertFailures`, failing reverts), retries of retry scopes included, each with the run's final
 * status. Small flows are enumerated exhaustively; above `maxPaths` paths (or `maxStates`), a seeded
 * random sample of `maxPaths` paths is drawn instead.
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
  const maxFailures = options.maxFailures ?? Number.POSITIVE_INFINITY;
  if (!(maxFailures >= 0)) {
    throw new FlowDefinitionError(
      `Expected \`maxFailures\` to be a number from 0 and up, got \`${maxFailures}\``,
    );
  }
  const seed = options.seed ?? randomSeed();
  const model = createPathModel(flow, options);
  const choices = (state: ModelState): PathStep[] =>
    model.busy(state).flatMap((call) => {
      const [kind, task] = splitCall(call);
      const outcomes: StepOutcome[] =
        kind === 'execute'
          ? state.failures < maxFailures
            ? ['success', 'failure']
            : ['success']
          : options.revertFailures
            ? ['reverted', 'revert-failure']
            : ['reverted'];
      return outcomes.map((outcome) => ({ task, outcome }));
    });

  const found = exhaustive(model, choices, maxPaths, maxStates);
  if (found.complete) return { paths: found.paths, exhaustive: true, seed, states: found.states };
  const failureRate = options.failureRate ?? 1 / model.order.length;
  const sampled = sample(model, choices, maxPaths, seededRandom(seed), failureRate);
  return { paths: sampled.paths, exhaustive: false, seed, states: found.states + sampled.states };
}

/** Depth-first over the model, merging states reached by different interleavings (same key). */
function exhaustive(
  model: PathModel,
  choices: (s: ModelState) => PathStep[],
  maxPaths: number,
  maxStates: number,
) {
  const seen = new Set<string>();
  const paths: FlowPath[] = [];
  let complete = true;
  const visit = (state: ModelState): void => {
    if (!complete) return;
    const key = model.key(state);
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > maxStates) {
      complete = false;
      return;
    }
    if (model.ended(state)) {
      paths.push(toPath(model, state));
      if (paths.length > maxPaths) complete = false;
      return;
    }
    for (const { task, outcome } of choices(state)) visit(model.step(state, task, outcome));
  };
  visit(model.initial());
  return { paths, complete, states: seen.size };
}

/** Random walks: pick a call in flight uniformly, fail it with `failureRate`; keep distinct paths. */
function sample(
  model: PathModel,
  choices: (s: ModelState) => PathStep[],
  maxPaths: number,
  random: () => number,
  failureRate: number,
) {
  const byOutcomes = new Map<string, FlowPath>();
  let states = 0;
  for (let walk = 0; walk < maxPaths * 10 && byOutcomes.size < maxPaths; walk++) {
    let state = model.initial();
    while (!model.ended(state)) {
      const options = choices(state);
      const calls = [...new Set(options.map((o) => o.task))];
      const task = calls[Math.floor(random() * calls.length)]!;
      const mine = options.filter((o) => o.task === task);
      const bad = mine.length > 1 && random() < failureRate;
      state = model.step(state, task, mine[bad ? 1 : 0]!.outcome);
      states += 1;
    }
    // Like the exhaustive walk, interleavings that end in the same per-task outcomes are one path.
    const key = outcomes(model, state);
    if (!byOutcomes.has(key)) byOutcomes.set(key, toPath(model, state));
  }
  return { paths: [...byOutcomes.values()], states };
}

function outcomes(model: PathModel, state: ModelState): string {
  const histories = new Map<string, string[]>(model.order.map((t) => [t, []]));
  for (const { task, outcome } of state.steps) histories.get(task)!.push(outcome);
  return JSON.stringify([...histories.values(), model.status(state)]);
}

function toPath(model: PathModel, state: ModelState): FlowPath {
  const status = model.status(state);
  const name = `${state.steps.map((s) => `${s.task}:${s.outcome}`).join(' ')} → ${status}`;
  const path: FlowPath = { name, steps: state.steps, status, inFlight: state.inFlight };
  // `${path}` and String(path) print the summary, not [object Object]; not enumerable, so the path
  // stays plain data (JSON, deep equality).
  Object.defineProperty(path, 'toString', { value: () => name, enumerable: false });
  return path;
}

export function splitCall(call: string): ['execute' | 'revert', string] {
  const at = call.indexOf(':');
  return [call.slice(0, at) as 'execute' | 'revert', call.slice(at + 1)];
}
