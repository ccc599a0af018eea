import dagre from '@dagrejs/dagre';
import { escapeHtml } from './html.js';

export interface GraphTask {
  name: string;
  state: string;
  attempt?: number;
}

const WIDTH = 168;
const HEIGHT = 48;

/**
 * The flow as an SVG graph, laid out by dagre on the server (so the page needs no layout script):
 * one box per task, coloured by state *and* labelled with it (colour is never the only cue), one
 * arrow per dependency. Each box carries `data-task` and `data-state`, which the page's script
 * updates as events arrive.
 */
export function graphSvg(tasks: readonly GraphTask[], edges: readonly (readonly [string, string])[]): string {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of tasks) g.setNode(t.name, { width: WIDTH, height: HEIGHT });
  for (const [from, to] of edges) if (g.hasNode(from) && g.hasNode(to)) g.setEdge(from, to);
  dagre.layout(g);
  const { width = WIDTH, height = HEIGHT } = g.graph();
  const paths = g.edges().map((e: { v: string; w: string }) => {
    const points = g.edge(e).points ?? [];
    const d = points
      .map(
        (p: { x: number; y: number }, i: number) =>
          `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`,
      )
      .join(' ');
    return `<path class="edge" d="${d}" marker-end="url(#arrow)"/>`;
  });
  const nodes = tasks.map((t) => {
    const n = g.node(t.name);
    const x = n.x - WIDTH / 2;
    const y = n.y - HEIGHT / 2;
    const name = escapeHtml(t.name);
    const attempt = t.attempt && t.attempt > 1 ? ` · attempt ${t.attempt}` : '';
    return `<g class="task" data-task="${name}" data-state="${t.state}" transform="translate(${x.toFixed(1)},${y.toFixed(1)})" tabindex="0"><title>${name}: ${t.state}</title><rect width="${WIDTH}" height="${HEIGHT}" rx="8"/><text class="name" x="${WIDTH / 2}" y="19">${name}</text><text class="state" x="${WIDTH / 2}" y="37">${t.state}${attempt}</text></g>`;
  });
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg class="graph" role="img" aria-label="flow graph" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>${paths.join('')}${nodes.join('')}</svg>`;
}
