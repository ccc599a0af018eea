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
