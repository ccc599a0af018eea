import { decodeValue } from '../model/codec.js';
import { REVERTIBLE_STATES, UNDONE_STATES } from '../model/task-states.js';
import type { FlowGraph } from './flow-graph.js';
import type { RunContext, TaskRecord } from './run-context.js';
import { recordOf } from './task-records.js';

/**
 * The scheduler's decisions (TaskFlow's selector and retry resolution), apart from its bookkeeping:
 * pure functions of the flow's graph and a run's context that change nothing. What is ready to start
 * or to be ignored, what may be reverted now, what a retry scope covers, what its controller decides.
 */
export type Readiness = 'wait' | 'ready' | 'ignore';

export function createDecisions(
  graph: FlowGraph,
  scopeValues: (ctx: RunContext, scope: string) => readonly unknown[] | undefined,
) {
  const rec = (ctx: Pick<RunContext, 'tasks'>, task: string): TaskRecord => recordOf(graph, ctx, task);
  const retrySets = new Map<string, ReadonlySet<string>>();
  // A retry scope's revert covers its tasks and everything downstream of them that may have run.
  const retrySet = (scope: string): ReadonlySet<string> => {
    let set = retrySets.get(scope);
    if (!set) {
      const found = new Set(graph.scopes.get(scope)!.tasks);
      const stack = [...found];
      while (stack.length > 0) {
        for (const d of graph.byName.get(stack.pop()!)!.dependents) {
          if (!found.has(d)) {
            found.add(d);
            stack.push(d);
          }
        }
      }
      retrySets.set(scope, found);
      set = found;
    }
    return set;
  };

  const nested = new Map<string, readonly string[]>();
  // Scopes strictly inside `scope` in the flow tree: for each of its tasks, the scopes listed before it
  // (a task's scopes are innermost first). Not "whose tasks are a subset": a scope holding only another
  // scope has the same tasks, and is still its parent, not its child.
  const nestedScopes = (scope: string): readonly string[] => {
    let list = nested.get(scope);
    if (!list) {
      const found = new Set<string>();
      for (const t of graph.scopes.get(scope)!.tasks) {
        const scopes = graph.byName.get(t)!.scopes;
        for (const inner of scopes.slice(0, scopes.indexOf(scope))) found.add(inner);
      }
      list = [...found];
      nested.set(scope, list);
    }
    return list;
  };

  const readiness = (ctx: RunContext, task: string): Readiness => {
    const node = graph.byName.get(task)!;
    let ignoredDeps = 0;
    for (const dep of node.deps) {
      const s = rec(ctx, dep).s;
      if (s === 'IGNORED') ignoredDeps += 1;
      else if (s !== 'SUCCESS') return 'wait';
    }
    if (ignoredDeps > 0) {
      if (ignoredDeps === node.deps.length) return 'ignore';
      for (const [arg, source] of Object.entries(node.args)) {
        if (source.kind === 'task' && !node.optional.has(arg) && rec(ctx, source.task).s === 'IGNORED')
          return 'ignore';
      }
    }
    for (const { from, decider } of node.deciders) {
      if (from.some((f) => rec(ctx, f).s !== 'SUCCESS')) continue;
      const history: Record<string, unknown> = {};
      for (const f of from) history[f] = decodeValue(rec(ctx, f).r);
      if (!decider(history)) return 'ignore';
    }
    return 'ready';
  };

  const revertible = (ctx: RunContext, task: string): boolean => {
    if (!REVERTIBLE_STATES.has(rec(ctx, task).s)) return false;
    if (ctx.phase === 'retry' && !retrySet(ctx.retryScope!).has(task)) return false;
    for (const d of graph.byName.get(task)!.dependents) if (!UNDONE_STATES.has(rec(ctx, d).s)) return false;
    return true;
  };

  /**
   * What a task's failure means, asking its retry controllers innermost first: the scope to retry,
   * or REVERT_ALL when none retries (REVERT fails outwards to the next controller).
   */
  const resolve = (ctx: RunContext, task: string): string | 'REVERT_ALL' => {
    for (const scope of graph.byName.get(task)!.scopes) {
      const decision = graph.scopes
        .get(scope)!
        .controller.decide(ctx.scopes[scope] ?? 0, scopeValues(ctx, scope));
      if (decision === 'RETRY') return scope;
      if (decision === 'REVERT_ALL') return 'REVERT_ALL';
      // REVERT: fail outwards; an outer controller may still retry or revert all.
    }
    return 'REVERT_ALL';
  };

  return { retrySet, nestedScopes, readiness, revertible, resolve };
}
