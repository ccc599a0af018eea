import type { Flow } from '../flow/types.js';
import { dotQuote } from '../model/dot-text.js';
import type { FlowNodeStructure, FlowStructure } from '../model/flow-structure.js';
import { compile } from './compile.js';
import { flowStructure, isFlowStructure } from './flow-structure.js';

/**
 * A Graphviz digraph of a flow: one box per task, one cluster per (sub-)flow labelled with its kind and
 * retry controller, an arrow per dependency; links with deciders are dashed and labelled `decider`.
 * Like `toMermaid`, the output depends only on the flow's structure, in definition order, and it takes
 * a stored structure (`engine.get(id).flow`) as well as a flow.
 *
 * @example
 * writeFileSync('boot.dot', toDot(bootServer)); // dot -Tsvg boot.dot > boot.svg
 */
export function toDot(flow: Flow | FlowStructure): string {
  const structure = isFlowStructure(flow) ? flow : flowStructure(compile(flow));
  const q = dotQuote;
  const lines = [`digraph ${q(structure.name)} {`, '  rankdir=TB;', '  node [shape=box, style=rounded];'];
  const walk = (node: FlowNodeStructure, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.kind === 'task') {
      const provides = node.provides.length > 0 ? `\n→ ${node.provides.join(', ')}` : '';
      lines.push(`${pad}${q(node.name)} [label=${q(`${node.name}${provides}`)}];`);
      return;
    }
    // Task and flow names share one namespace (DuplicateNameError), so cluster ids cannot clash.
    const retry = node.retry ? ` · retry ${node.retry}` : '';
    lines.push(
      `${pad}subgraph ${q(`cluster_${node.name}`)} {`,
      `${pad}  label=${q(`${node.kind} ${node.name}${retry}`)};`,
    );
    for (const child of node.children) walk(child, depth + 1);
    lines.push(`${pad}}`);
  };
  walk(structure.root, 1);
  const decided = new Set(structure.decided.map(([from, to]) => `${from}\0${to}`));
  for (const [from, to] of structure.edges) {
    lines.push(
      `  ${q(from)} -> ${q(to)}${decided.has(`${from}\0${to}`) ? ' [style=dashed, label="decider"]' : ''};`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
