import { DependencyCycleError, DuplicateNameError, FlowDefinitionError } from '../errors.js';
import type { Decider, Flow, Node, RetryController, Task } from '../flow/types.js';

/**
 * A flow tree flattened into one dependency graph (TaskFlow's compiler step), validated.
 * Everything the scheduler needs is precomputed here, once per flow.
 */
export type ArgSource =
  | { kind: 'task'; task: string; key: string | undefined }
  | { kind: 'scope'; scope: string }
  | { kind: 'input'; name: string }
  | { kind: 'inject'; value: unknown };

export interface GraphTask {
  readonly task: Task<any, any>;
  readonly name: string;
  /** Position in a topological order. */
  readonly order: number;
  readonly deps: readonly string[];
  readonly dependents: readonly string[];
  /** Retry scopes containing the task, innermost first. */
  readonly scopes: readonly string[];
  /** Argument name → where its value comes from. */
  readonly args: Readonly<Record<string, ArgSource>>;
  /** Which arguments are optional. */
  readonly optional: ReadonlySet<string>;
  /** Deciders on links into this task. */
  readonly deciders: readonly { from: readonly string[]; decider: Decider }[];
}

export interface RetryScope {
  readonly name: string;
  readonly controller: RetryController;
  readonly tasks: ReadonlySet<string>;
  /** Where a parameterized controller's values come from. */
  readonly values: ArgSource | undefined;
  /** Name the iteration value is provided under, if any. */
  readonly provides: string | undefined;
}

export interface FlowGraph {
  readonly flow: Flow;
  readonly name: string;
  readonly version: string;
  /** Tasks in topological order. */
  readonly tasks: readonly GraphTask[];
  readonly byName: ReadonlyMap<string, GraphTask>;
  readonly scopes: ReadonlyMap<string, RetryScope>;
  /** Run input name → tasks that need it (required only). */
  readonly requiredInputs: ReadonlyMap<string, readonly string[]>;
  /** Result name → the task providing it last (what `run.result` holds). */
  readonly outputs: ReadonlyMap<string, ArgSource>;
  readonly edges: readonly (readonly [string, string])[];
}

interface Built {
  tasks: string[];
}

export function buildFlowGraph(flow: Flow): FlowGraph {
  const taskDefs = new Map<string, Task<any, any>>();
  const names = new Set<string>();
  const edges = new Map<string, Set<string>>(); // from → to
  const deciders = new Map<string, { from: string[]; decider: Decider }[]>();
  const scopeDefs: { name: string; controller: RetryController; tasks: string[] }[] = [];
  const scopeOf = new Map<string, string[]>();

  const addEdge = (from: string, to: string) => {
    if (from === to) throw new DependencyCycleError([from, to], flow.name);
    const set = edges.get(from) ?? new Set<string>();
    edges.set(from, set);
    set.add(to);
  };
  const claimName = (name: string) => {
    if (names.has(name)) throw new DuplicateNameError(name, flow.name);
    names.add(name);
  };
  const inner = (tasks: string[]): { starts: string[]; ends: string[] } => {
    const set = new Set(tasks);
    const hasIn = new Set<string>();
    const hasOut = new Set<string>();
    for (const from of tasks) {
      for (const to of edges.get(from) ?? []) {
        if (set.has(to)) {
          hasOut.add(from);
          hasIn.add(to);
        }
      }
    }
    return { starts: tasks.filter((t) => !hasIn.has(t)), ends: tasks.filter((t) => !hasOut.has(t)) };
  };
  const storeNames = (t: Task<any, any>) =>
    [...t.requires, ...t.optional].filter((a) => !(a in t.inject)).map((a) => t.rebind[a] ?? a);

  const build = (node: Node): Built => {
    claimName(node.name);
    if (node.kind === 'task') {
      taskDefs.set(node.name, node);
      return { tasks: [node.name] };
    }
    const children = node.children.map((child) => ({ node: child, built: build(child) }));
    const tasks = children.flatMap((c) => c.built.tasks);
    if (node.kind === 'linear') {
      for (let i = 1; i < children.length; i++) {
        const prev = inner(children[i - 1]!.built.tasks);
        const next = inner(children[i]!.built.tasks);
        for (const from of prev.ends) for (const to of next.starts) addEdge(from, to);
      }
    } else if (node.kind === 'parallel') {
      for (const a of children) {
        const needs = new Set(a.built.tasks.flatMap((t) => storeNames(taskDefs.get(t)!)));
        for (const b of children) {
          if (a === b) continue;
          const fed = b.built.tasks.flatMap((t) => taskDefs.get(t)!.provides).find((p) => needs.has(p));
          if (fed) {
            throw new FlowDefinitionError(
              `Expected the children of parallel \`${node.name}\` to be independent, got \`${a.node.name}\` requiring \`${fed}\` which its sibling \`${b.node.name}\` provides. Use linear() or graph() to order them.`,
              flow.name,
            );
          }
        }
      }
    } else {
      const providerOf = new Map<string, { child: string; task: string }>();
      for (const c of children) {
        for (const t of c.built.tasks) {
          for (const p of taskDefs.get(t)!.provides) {
            const seen = providerOf.get(p);
            if (seen && seen.child !== c.node.name) {
              throw new FlowDefinitionError(
                `Expected one provider of \`${p}\` in graph \`${node.name}\`, got \`${seen.task}\` and \`${t}\`. Rename one of the provides or put them in a linear() order.`,
                flow.name,
              );
            }
            providerOf.set(p, { child: c.node.name, task: t });
          }
        }
      }
      for (const c of children) {
        for (const t of c.built.tasks) {
          for (const need of storeNames(taskDefs.get(t)!)) {
            const provider = providerOf.get(need);
            if (provider && provider.child !== c.node.name) addEdge(provider.task, t);
          }
        }
      }
      const childTasks = new Map(children.map((c) => [c.node.name, c.built.tasks]));
      for (const [from, to, decider] of node.links) {
        const fromTasks = childTasks.get(from);
        const toTasks = childTasks.get(to);
        if (!fromTasks || !toTasks) {
          throw new FlowDefinitionError(
            `Expected links of graph \`${node.name}\` to name its children (${[...childTasks.keys()].map((k) => `\`${k}\``).join(', ')}), got \`${fromTasks ? to : from}\``,
            flow.name,
          );
        }
        const ends = inner(fromTasks).ends;
        const starts = inner(toTasks).starts;
        for (const f of ends) for (const t of starts) addEdge(f, t);
        if (decider) {
          for (const t of starts) {
            const list = deciders.get(t) ?? [];
            list.push({ from: ends, decider });
            deciders.set(t, list);
          }
        }
      }
    }
    if (node.retry) {
      scopeDefs.push({ name: node.name, controller: node.retry, tasks });
      for (const t of tasks) {
        const list = scopeOf.get(t) ?? [];
        list.push(node.name); // children are built first, so inner scopes come first
        scopeOf.set(t, list);
      }
    }
    return { tasks };
  };

  const root = build(flow);
  if (root.tasks.length === 0) {
    throw new FlowDefinitionError(
      `Expected flow \`${flow.name}\` to contain at least one task, got none`,
      flow.name,
    );
  }

  // Topological order (Kahn), stable by definition order; leftovers mean a cycle.
  const definitionOrder = root.tasks;
  const indegree = new Map(definitionOrder.map((t) => [t, 0]));
  for (const tos of edges.values()) for (const to of tos) indegree.set(to, indegree.get(to)! + 1);
  const ready = definitionOrder.filter((t) => indegree.get(t) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const t = ready.shift()!;
    order.push(t);
    for (const to of edges.get(t) ?? []) {
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) ready.push(to);
    }
  }
  if (order.length < definitionOrder.length)
    throw new DependencyCycleError(findCycle(definitionOrder, edges, new Set(order)), flow.name);

  const preds = new Map<string, string[]>(order.map((t) => [t, []]));
  for (const [from, tos] of edges) for (const to of tos) preds.get(to)!.push(from);
  const position = new Map(order.map((t, i) => [t, i]));
  const ancestorsOf = memoAncestors(preds);

  const providers = new Map<string, { task: string; key: string | undefined }[]>();
  for (const t of order) {
    const def = taskDefs.get(t)!;
    for (const p of def.provides) {
      const list = providers.get(p) ?? [];
      list.push({ task: t, key: def.provides.length > 1 ? p : undefined });
      providers.set(p, list);
    }
  }
  const scopeProvides = new Map<string, string | undefined>(
    scopeDefs.map((s) => [
      s.name,
      s.controller.provides ?? (s.controller.kind === 'parameterized' ? s.name : undefined),
    ]),
  );

  const resolve = (
    storeName: string,
    forTask: string,
    exclude?: ReadonlySet<string>,
  ): ArgSource | undefined => {
    const ancestors = ancestorsOf(forTask);
    const candidates = (providers.get(storeName) ?? []).filter(
      (p) => ancestors.has(p.task) && !exclude?.has(p.task),
    );
    if (candidates.length > 0) {
      // The nearest provider wins: the one every other candidate precedes.
      const nearest = candidates.reduce((a, b) => (position.get(a.task)! > position.get(b.task)! ? a : b));
      const nearestAncestors = ancestorsOf(nearest.task);
      const rival = candidates.find((c) => c !== nearest && !nearestAncestors.has(c.task));
      if (rival) {
        throw new FlowDefinitionError(
          `Expected one provider of \`${storeName}\` for task \`${forTask}\`, got \`${rival.task}\` and \`${nearest.task}\` with no order between them`,
          flow.name,
        );
      }
      return { kind: 'task', task: nearest.task, key: nearest.key };
    }
    for (const scope of scopeOf.get(forTask) ?? []) {
      if (scopeProvides.get(scope) === storeName) return { kind: 'scope', scope };
    }
    return undefined;
  };

  const requiredInputs = new Map<string, string[]>();
  const tasks: GraphTask[] = order.map((name, i) => {
    const def = taskDefs.get(name)!;
    const args: Record<string, ArgSource> = {};
    for (const arg of [...def.requires, ...def.optional]) {
      if (arg in def.inject) {
        args[arg] = { kind: 'inject', value: def.inject[arg] };
        continue;
      }
      const storeName = def.rebind[arg] ?? arg;
      const source = resolve(storeName, name) ?? { kind: 'input', name: storeName };
      args[arg] = source;
      if (source.kind === 'input' && def.requires.includes(arg)) {
        const list = requiredInputs.get(storeName) ?? [];
        list.push(name);
        requiredInputs.set(storeName, list);
      }
    }
    return {
      task: def,
      name,
      order: i,
      deps: preds.get(name)!,
      dependents: [...(edges.get(name) ?? [])].sort((a, b) => position.get(a)! - position.get(b)!),
      scopes: scopeOf.get(name) ?? [],
      args,
      optional: new Set(def.optional),
      deciders: deciders.get(name) ?? [],
    };
  });

  const scopes = new Map<string, RetryScope>();
  for (const s of scopeDefs) {
    let values: ArgSource | undefined;
    if (s.controller.requires !== undefined) {
      const first = s.tasks.slice().sort((a, b) => position.get(a)! - position.get(b)!)[0]!;
      values = resolve(s.controller.requires, first, new Set(s.tasks)) ?? {
        kind: 'input',
        name: s.controller.requires,
      };
      if (values.kind === 'input') {
        const list = requiredInputs.get(s.controller.requires) ?? [];
        list.push(s.name);
        requiredInputs.set(s.controller.requires, list);
      }
    }
    scopes.set(s.name, {
      name: s.name,
      controller: s.controller,
      tasks: new Set(s.tasks),
      values,
      provides: scopeProvides.get(s.name),
    });
  }

  const outputs = new Map<string, ArgSource>();
  for (const t of order) {
    const def = taskDefs.get(t)!;
    for (const p of def.provides)
      outputs.set(p, { kind: 'task', task: t, key: def.provides.length > 1 ? p : undefined });
  }

  const edgeList: [string, string][] = [];
  for (const [from, tos] of edges) for (const to of tos) edgeList.push([from, to]);
  edgeList.sort(
    (a, b) => position.get(a[0])! - position.get(b[0])! || position.get(a[1])! - position.get(b[1])!,
  );

  return {
    flow,
    name: flow.name,
    version: flow.version,
    tasks,
    byName: new Map(tasks.map((t) => [t.name, t])),
    scopes,
    requiredInputs,
    outputs,
    edges: edgeList,
  };
}

function memoAncestors(preds: Map<string, string[]>): (task: string) => ReadonlySet<string> {
  const memo = new Map<string, Set<string>>();
  const visit = (task: string): Set<string> => {
    const known = memo.get(task);
    if (known) return known;
    const result = new Set<string>();
    // Iterative DFS: long chains must not overflow the stack.
    const stack = [...preds.get(task)!];
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (result.has(p)) continue;
      result.add(p);
      const cached = memo.get(p);
      if (cached) for (const a of cached) result.add(a);
      else stack.push(...preds.get(p)!);
    }
    memo.set(task, result);
    return result;
  };
  return visit;
}

function findCycle(tasks: readonly string[], edges: Map<string, Set<string>>, done: Set<string>): string[] {
  const state = new Map<string, 'open' | 'closed'>();
  const path: string[] = [];
  const dfs = (t: string): string[] | undefined => {
    state.set(t, 'open');
    path.push(t);
    for (const to of edges.get(t) ?? []) {
      if (done.has(to)) continue;
      if (state.get(to) === 'open') return [...path.slice(path.indexOf(to)), to];
      if (!state.has(to)) {
        const found = dfs(to);
        if (found) return found;
      }
    }
    path.pop();
    state.set(t, 'closed');
    return undefined;
  };
  for (const t of tasks) {
    if (!done.has(t) && !state.has(t)) {
      const found = dfs(t);
      if (found) return found;
    }
  }
  return [];
}
