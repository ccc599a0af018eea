import type { Flow, Node } from '../flow/types.js';
import { compile } from './compile.js';

/**
 * A Mermaid flowchart of a flow: one box per task, one subgraph per (sub-)flow, an arrow per
 * dependency; links with deciders are dashed and labelled `decider`, retry scopes are named.
 *
 * @example
 * console.log(toMermaid(bootServer));
 */
export function toMermaid(flow: Flow): string {
  const { graph } = compile(flow);
  const ids = new Map<string, string>();
  const id = (name: string) => {
    const known = ids.get(name) ?? `n${ids.size}`;
    ids.set(name, known);
    return known;
  };
  const label = (text: string) => text.replace(/"/g, '#quot;');
  const lines = ['flowchart TD'];
  const walk = (node: Node, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.kind === 'task') {
      const provides = node.provides.length > 0 ? `<br/>→ ${node.provides.join(', ')}` : '';
      lines.push(`${pad}${id(node.name)}["${label(node.name)}${label(provides)}"]`);
      return;
    }
    const retry = node.retry ? ` · retry ${node.retry.describe}` : '';
    lines.push(`${pad}subgraph ${id(`flow:${node.name}`)}["${label(`${node.kind} ${node.name}${retry}`)}"]`);
    for (const child of node.children) walk(child, depth + 1);
    lines.push(`${pad}end`);
  };
  walk(flow, 1);
  for (const [from, to] of graph.edges) {
    const decided = graph.byName.get(to)!.deciders.some((d) => d.from.includes(from));
    lines.push(`  ${id(from)} ${decided ? '-. decider .->' : '-->'} ${id(to)}`);
  }
  return `${lines.join('\n')}\n`;
}
