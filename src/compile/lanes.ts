import type { FlowGraph } from './flow-graph.js';

/**
 * Lanes: the flow's tasks covered by dependency chains (a greedy path cover in topological order).
 * Consecutive tasks of a chain depend on each other, so at most one task per chain is ever busy
 * (running, retrying or reverting): a chain can be one region of the machine whose active state
 * names that task. XState's cost per event grows with the number of active regions, so a chain of
 * 100 tasks costs one region, not 100. Only flows of up to SPAWN_ABOVE_LANES chains run in lanes
 * (compile.ts); wider ones run as task machines, and their lanes are what the flow's structure lists.
 */
/**
 * The most lanes a flow's structure lists (`FlowStructure.lanes`): a wider flow's chains are listed
 * together, round-robin. No machine has that many: it is far above SPAWN_ABOVE_LANES.
 */
export const MAX_LANES = 32;

export interface Lanes {
  /** Tasks of each lane (a region), in order. */
  lanes: string[][];
  /** Lane index of each task. */
  laneOf: ReadonlyMap<string, number>;
  /** A task's successor in its chain (it depends on the task and runs after it in the same lane). */
  successor: ReadonlyMap<string, string>;
}

export function computeLanes(graph: FlowGraph): Lanes {
  const chains: string[][] = [];
  const chainOfTail = new Map<string, number>();
  for (const node of graph.tasks) {
    const dep = node.deps.find((d) => chainOfTail.has(d));
    if (dep === undefined) {
      chainOfTail.set(node.name, chains.length);
      chains.push([node.name]);
      continue;
    }
    const chain = chainOfTail.get(dep)!;
    chainOfTail.delete(dep);
    chainOfTail.set(node.name, chain);
    chains[chain]!.push(node.name);
  }
  const successor = new Map<string, string>();
  for (const chain of chains) for (let i = 1; i < chain.length; i++) successor.set(chain[i - 1]!, chain[i]!);
  const lanes: string[][] = Array.from({ length: Math.min(chains.length, MAX_LANES) }, () => []);
  chains.forEach((chain, i) => {
    lanes[i % lanes.length]!.push(...chain);
  });
  const laneOf = new Map<string, number>();
  lanes.forEach((lane, i) => {
    for (const task of lane) laneOf.set(task, i);
  });
  return { lanes, laneOf, successor };
}

export const laneName = (index: number) => `lane${index}`;
export const idleId = (index: number) => `lane${index}-idle`;
export const runningId = (task: string) => `run:${task}`;
/**
 * A lane's state while `task` is busy: `<task>:RUNNING`, `<task>:RETRYING`, `<task>:REVERTING`. Flat
 * states of the lane, not a compound state per task: every microstep walks each active state node, and
 * one level less per busy lane cost 6–28 % less per task (compiled machine, fan10 and chain10).
 */
export const busyState = (task: string, state: 'RUNNING' | 'RETRYING' | 'REVERTING') => `${task}:${state}`;

/** A lane's busy state split back into its task and state (a task name may hold `:`); undefined for `idle`. */
export function splitBusyState(value: string): { task: string; state: string } | undefined {
  const at = value.lastIndexOf(':');
  return at < 0 ? undefined : { task: value.slice(0, at), state: value.slice(at + 1) };
}

/**
 * XState resolves the transitions one event enables pairwise (quadratic, each with an exit-set walk):
 * one event must not move many lanes. Past this many, lanes move by per-task events, one microstep each.
 */
export const MAX_LANES_PER_EVENT = 8;

/** Per dependency, the tasks its completion starts in the same microstep (see directStarts). */
export type DirectStarts = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Pairs (dependency → task) where the task's lane listens for the dependency's completion and starts
 * in that microstep: a lane's successor always; a task in another lane when the dependency does not
 * fan out to more than MAX_LANES_PER_EVENT lanes. Built once per flow: the guards read it per event.
 */
export function directStarts(graph: FlowGraph, lanes: Lanes): DirectStarts {
  const pairs = new Map<string, Set<string>>();
  const add = (dep: string, task: string) => {
    const tasks = pairs.get(dep) ?? new Set<string>();
    tasks.add(task);
    pairs.set(dep, tasks);
  };
  for (const node of graph.tasks) {
    const next = lanes.successor.get(node.name);
    if (next !== undefined) add(node.name, next);
    // Every chain of a machine in lanes has a lane of its own, so a dependent's lane is idle when its
    // last dependency completes.
    const others = node.dependents.filter((d) => d !== next);
    if (others.length <= MAX_LANES_PER_EVENT) for (const d of others) add(node.name, d);
  }
  return pairs;
}
