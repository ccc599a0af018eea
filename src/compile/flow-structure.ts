import type { Flow, Node } from '../flow/types.js';
import type { CompiledFlow } from './compile.js';

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

/** The catalog record of a compiled flow. */
export function flowStructure(compiled: CompiledFlow): FlowStructure {
  const { graph } = compiled;
  const decided: [string, string][] = [];
  for (const [from, to] of graph.edges) {
    if (graph.byName.get(to)!.deciders.some((d) => d.from.includes(from))) decided.push([from, to]);
  }
  return {
    format: 1,
    name: graph.name,
    version: graph.version,
    hash: compiled.hash,
    tasks: graph.tasks.map((t) => ({
      name: t.name,
      requires: [...t.task.requires],
      optional: [...t.task.optional],
      provides: [...t.task.provides],
    })),
    edges: graph.edges.map(([from, to]) => [from, to]),
    decided,
    root: nodeStructure(compiled.flow),
    scopes: [...graph.scopes.values()].map((s) => ({
      name: s.name,
      retry: s.controller.describe,
      tasks: [...s.tasks],
    })),
    lanes: compiled.lanes.map((lane) => [...lane]),
  };
}

function nodeStructure(node: Node | Flow): FlowNodeStructure {
  if (node.kind === 'task') return { kind: 'task', name: node.name, provides: [...node.provides] };
  return {
    kind: node.kind,
    name: node.name,
    ...(node.retry ? { retry: node.retry.describe } : {}),
    children: node.children.map(nodeStructure),
  };
}

/** Tell a stored structure from a flow definition (renderers take either). */
export function isFlowStructure(value: Flow | FlowStructure): value is FlowStructure {
  return (value as FlowStructure).format === 1 && 'root' in value;
}

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
