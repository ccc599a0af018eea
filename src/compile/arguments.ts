import { decodeValue, encodeValue, TAG } from '../model/codec.js';
import type { ArgSource, FlowGraph } from './flow-graph.js';
import type { RunContext } from './run-context.js';
import { recordOf } from './task-records.js';

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
        const result = decodeValue(recordOf(graph, ctx, source.task).r);
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

  const key = (ctx: RunContext, task: string): string => {
    const node = graph.byName.get(task)!;
    const iterations = node.scopes.map((s) => ctx.scopes[s] ?? 0);
    return iterations.some((i) => i > 0)
      ? `${ctx.runId}:${task}#${iterations.join('.')}`
      : `${ctx.runId}:${task}`;
  };

  /** Tasks that take no arguments. */
  const argless = new Set(
    graph.tasks.filter((node) => Object.keys(node.args).length === 0).map((node) => node.name),
  );
  /**
   * The arguments already encoded, for a task actor's (persisted) input: stored values are copied as
   * they are (they are encoded in the context), not decoded and encoded again.
   */
  const encodedArgs = (ctx: RunContext, task: string): Record<string, unknown> => {
    // One object for every task that takes nothing, not one per start held by each running task.
    if (argless.has(task)) return NO_ARGS;
    const node = graph.byName.get(task)!;
    const out: Record<string, unknown> = {};
    for (const [arg, source] of Object.entries(node.args)) {
      if (source.kind === 'input') out[arg] = ctx.inputs[source.name];
      else if (source.kind === 'task' && source.key === undefined)
        out[arg] = recordOf(graph, ctx, source.task).r;
      else {
        const stored = source.kind === 'task' ? recordOf(graph, ctx, source.task).r : undefined;
        // A key of a plain encoded object is itself encoded; anything else goes through the codec.
        out[arg] =
          source.kind === 'task' && isPlainEncoded(stored)
            ? (stored as Record<string, unknown>)[source.key!]
            : encodeValue(value(ctx, source));
      }
      if (out[arg] === undefined) out[arg] = encodeValue(undefined);
    }
    return out;
  };

  return { value, scopeValues, encodedArgs, key };
}

/** The encoded arguments of a task that takes none (frozen: shared by every such task's input). */
const NO_ARGS: Record<string, unknown> = Object.freeze({});

function isPlainEncoded(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(TAG in value);
}
