import type { Flow, Node } from '../flow/types.js';
import type { FlowNodeStructure, FlowStructure } from '../model/flow-structure.js';
import type { CompiledFlow } from './compile.js';

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
