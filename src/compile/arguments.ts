import { decodeValue } from '../store/codec.js';
import type { ArgSource, FlowGraph } from './flow-graph.js';
import type { RunContext } from './run-context.js';

/**
 * Where a task's arguments come from at run time: run inputs, other tasks' stored results (a key of
 * them for multi-provides), injected constants, or a retry controller's value for this iteration.
 * Also the idempotency key, stable per (run, task, retry iterations of the scopes around the task).
 */
export function createArguments(graph: FlowGraph) {
  const value = (ctx: RunContext, source: ArgSource): unknown => {
    switch (source.kind) {
      case 'inject':
        return source.value;
      case 'input':
        return decodeValue(ctx.inputs[source.name]);
      case 'task': {
        const result = decodeValue(ctx.tasks[source.task]?.r);
        return source.key === undefined
          ? result
          : (result as Record<string, unknown> | undefined)?.[source.key];
      }
      case 'scope': {
        const scope = graph.scopes.get(source.scope)!;
        return scope.controller.valueAt(ctx.scopes[source.scope] ?? 0, scopeValues(ctx, source.scope));
      }
    }
  };
  const scopeValues = (ctx: RunContext, scope: string): readonly unknown[] | undefined => {
    const source = graph.scopes.get(scope)!.values;
    if (!source) return undefined;
    const values = value(ctx, source);
    return Array.isArray(values) ? values : undefined;
  };

  const args = (ctx: RunContext, task: string): Record<string, unknown> => {
    const node = graph.byName.get(task)!;
    const out: Record<string, unknown> = {};
    for (const [arg, source] of Object.entries(node.args)) out[arg] = value(ctx, source);
    return out;
  };

  const key = (ctx: RunContext, task: string): string => {
    const node = graph.byName.get(task)!;
    const iterations = node.scopes.map((s) => ctx.scopes[s] ?? 0);
    return iterations.some((i) => i > 0)
      ? `${ctx.runId}:${task}#${iterations.join('.')}`
      : `${ctx.runId}:${task}`;
  };

  return { value, scopeValues, args, key };
}
