import type { Flow } from '../flow/types.js';
import type { FlowNodeStructure, FlowStructure } from '../model/flow-structure.js';
import { compile } from './compile.js';
import { flowStructure, isFlowStructure } from './flow-structure.js';

/**
 * A Mermaid flowchart of a flow: one box per task, one subgraph per (sub-)flow, an arrow per
 * dependency; links with deciders are dashed and labelled `decider`, retry scopes are named.
 * Takes a flow, or a stored structure (`engine.get(id).flow`) when the flow's code is not at hand.
 *
 * @example
 * console.log(toMermaid(bootServer));
 * console.log(toMermaid((await engine.get('req-42'))!.flow!)); // without importing the flow
 */
export function toMermaid(flow: Flow | FlowStructure): string {
  const structure = isFlowStructure(flow) ? flow : flowStructure(compile(flow));
  const ids = new Map<string, string>();
  const id = (name: string) => {
    const known = ids.get(name) ?? `n${ids.size}`;
    ids.set(name, known);
    return known;
  };
  const label = (text: string) => text.replace(/"/g, '#quot;');
  const lines = ['flowchart TD'];
  const walk = (node: FlowNodeStructure, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.kind === 'task') {
      const provides = node.provides.length > 0 ? `<br/>→ ${node.provides.join(', ')}` : '';
      lines.push(`${pad}${id(node.name)}["${label(node.name)}${label(provides)}"]`);
      return;
    }
    const retry = node.retry ? ` · retry ${node.retry}` : '';
    lines.push(`${pad}subgraph ${id(`flow:${node.name}`)}["${label(`${node.kind} ${node.name}${retry}`)}"]`);
    for (const child of node.children) walk(child, depth + 1);
    lines.push(`${pad}end`);
  };
  walk(structure.root, 1);
  const decided = new Set(structure.decided.map(([from, to]) => `${from}\0${to}`));
  for (const [from, to] of structure.edges) {
    lines.push(`  ${id(from)} ${decided.has(`${from}\0${to}`) ? '-. decider .->' : '-->'} ${id(to)}`);
  }
  return `${lines.join('\n')}\n`;
}
