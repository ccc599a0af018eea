import { createHash } from 'node:crypto';
import type { FlowGraph } from './flow-graph.js';

/**
 * Structural hash of a compiled flow: task names, data wiring, edges and retry scopes. Code inside
 * tasks, option values (timeouts, attempts) and the version string do not count: a stored run can be
 * resumed by code whose structure is the same.
 */
export function structuralHash(graph: FlowGraph): string {
  const shape = {
    flow: graph.name,
    tasks: graph.tasks.map((t) => [
      t.name,
      t.task.requires,
      t.task.optional,
      t.task.provides,
      Object.entries(t.args).map(([arg, source]) => [arg, source.kind === 'inject' ? 'inject' : source]),
      t.deciders.map((d) => d.from),
    ]),
    edges: graph.edges,
    scopes: [...graph.scopes.values()].map((s) => [s.name, s.controller.describe, [...s.tasks]]),
  };
  const text = JSON.stringify(shape, (_key, value) =>
    typeof value === 'function' ? 'fn' : value === undefined ? null : value,
  );
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
