import type { FlowGraph } from './flow-graph.js';

/**
 * Lanes: the flow's tasks covered by dependency chains (a greedy path cover in topological order).
 * Consecutive tasks of a lane depend on each other, so at most one task per lane is ever busy
 * (running, retrying or reverting): a lane can be one region of the machine whose active state
 * names that task. XState's cost per event grows with the number of active regions, so a chain of
 * 100 tasks costs one region, not 100; a fan-out of n costs n.
 */
export function computeLanes(graph: FlowGraph): string[][] {
  const lanes: string[][] = [];
  const laneOfTail = new Map<string, number>();
  for (const node of graph.tasks) {
    const dep = node.deps.find((d) => laneOfTail.has(d));
    if (dep === undefined) {
      laneOfTail.set(node.name, lanes.length);
      lanes.push([node.name]);
      continue;
    }
    const lane = laneOfTail.get(dep)!;
    laneOfTail.delete(dep);
    laneOfTail.set(node.name, lane);
    lanes[lane]!.push(node.name);
  }
  return lanes;
}

export const laneName = (index: number) => `lane${index}`;
export const idleId = (index: number) => `lane${index}-idle`;
export const runningId = (task: string) => `run:${task}`;

/**
 * XState resolves the transitions one event enables pairwise (quadratic, each with an exit-set walk):
 * one event must not move many lanes. Past this many, lanes move by per-task events, one microstep each.
 */
export const MAX_LANES_PER_EVENT = 8;

/**
 * Pairs (dependency → task) where the task's lane listens for the dependency's completion and starts
 * in that microstep: a lane's successor always; a task in another lane when the dependency does not
 * fan out to more than MAX_LANES_PER_EVENT lanes.
 */
export function directStarts(graph: FlowGraph, lanes: readonly (readonly string[])[]): ReadonlySet<string> {
  const pairs = new Set<string>();
  const successor = new Map<string, string>();
  for (const lane of lanes) for (let i = 1; i < lane.length; i++) successor.set(lane[i - 1]!, lane[i]!);
  for (const node of graph.tasks) {
    const next = successor.get(node.name);
    if (next !== undefined) pairs.add(pairKey(node.name, next));
    const others = node.dependents.filter((d) => d !== next);
    if (others.length <= MAX_LANES_PER_EVENT) for (const d of others) pairs.add(pairKey(node.name, d));
  }
  return pairs;
}

export const pairKey = (dep: string, task: string) => `${dep}\u0000${task}`;
