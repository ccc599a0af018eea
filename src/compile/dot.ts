import type { Flow, Node } from '../flow/types.js';
import { compile } from './compile.js';

/**
 * A Graphviz digraph of a flow: one box per task, one cluster per (sub-)flow labelled with its kind and
 * retry controller, an arrow per dependency; links with deciders are dashed and labelled `decider`.
 * Like `toMermaid`, the output depends only on the flow's structure, in definition order.
 *
 * @example
 * writeFileSync('boot.dot', toDot(bootServer)); // dot -Tsvg boot.dot > boot.svg
 */
export function toDot(flow: Flow): string {
  const { graph } = compile(flow);
  const q = dotQuote;
  const lines = [`digraph ${q(flow.name)} {`, '  rankdir=TB;', '  node [shape=box, style=rounded];'];
  const walk = (node: Node, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.kind === 'task') {
      const provides = node.provides.length > 0 ? `\n→ ${node.provides.join(', ')}` : '';
      lines.push(`${pad}${q(node.name)} [label=${q(`${node.name}${provides}`)}];`);
      return;
    }
    // Task and flow names share one namespace (DuplicateNameError), so cluster ids cannot clash.
    const retry = node.retry ? ` · retry ${node.retry.describe}` : '';
    lines.push(
      `${pad}subgraph ${q(`cluster_${node.name}`)} {`,
      `${pad}  label=${q(`${node.kind} ${node.name}${retry}`)};`,
    );
    for (const child of node.children) walk(child, depth + 1);
    lines.push(`${pad}}`);
  };
  walk(flow, 1);
  for (const [from, to] of graph.edges) {
    const decided = graph.byName.get(to)!.deciders.some((d) => d.from.includes(from));
    lines.push(`  ${q(from)} -> ${q(to)}${decided ? ' [style=dashed, label="decider"]' : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A DOT string literal: quotes, backslashes and newlines escaped. */
export function dotQuote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
