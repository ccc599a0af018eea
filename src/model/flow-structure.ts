/**
 * A flow's structure as plain data (never code): what the flow catalog stores once per structural hash,
 * so a process that does not import the flow can still read a run's tasks and draw its graph
 * (`toMermaid(structure)`, `toDot(structure)`).
 */
export interface FlowStructure {
  /** Layout version of this record. */
  format: 1;
  name: string;
  /** The `version` of the flow that stored it first (runs of other versions with this hash share it). */
  version: string;
  hash: string;
  /** In topological order. */
  tasks: Array<{ name: string; requires: string[]; optional: string[]; provides: string[] }>;
  /** Dependencies: `to` runs after `from`. */
  edges: Array<[from: string, to: string]>;
  /** The edges a decider guards (a subset of `edges`). */
  decided: Array<[from: string, to: string]>;
  /** The flow as written: sub-flows with their kind and retry controller, tasks as leaves. */
  root: FlowNodeStructure;
  /** Retry scopes: the sub-flow with a controller and the tasks it retries. */
  scopes: Array<{ name: string; retry: string; tasks: string[] }>;
  /** Dependency chains the machine runs one region each (see lanes.ts). */
  lanes: string[][];
}

export type FlowNodeStructure =
  | { kind: 'task'; name: string; provides: string[] }
  | {
      kind: 'linear' | 'parallel' | 'graph';
      name: string;
      /** The retry controller, described (`times(3)`). */
      retry?: string;
      children: FlowNodeStructure[];
    };

/** Check what the catalog returned before trusting it (a foreign key could hold anything). */
export function parseFlowStructure(text: string): FlowStructure | undefined {
  try {
    const value = JSON.parse(text) as FlowStructure;
    const ok =
      value?.format === 1 &&
      typeof value.name === 'string' &&
      typeof value.hash === 'string' &&
      Array.isArray(value.tasks) &&
      Array.isArray(value.edges) &&
      Array.isArray(value.decided) &&
      value.root !== null &&
      typeof value.root === 'object';
    return ok ? value : undefined;
  } catch {
    return undefined;
  }
}
