import type { AnyMachineSnapshot } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import {
  type ActionInput,
  actionNames,
  type Guard,
  type LifecycleAction,
  type LifecycleContext,
  type LifecycleDefinition,
  type LifecycleEvent,
  type LifecycleMachine,
  outcomeEvent,
  transitionRows,
} from '../../machines/index.js';

/**
 * What path tests send: each table event (once per target of a choice, with the field a guard asks
 * for) and each action's outcomes (a result, a plain failure, and failures named as guards ask).
 */
export function sampleEvents(definition: LifecycleDefinition): LifecycleEvent[] {
  const events = new Map<string, LifecycleEvent>();
  const add = (event: LifecycleEvent) =>
    events.set(
      JSON.stringify(event, (_k, v) => (v instanceof Error ? v.name : v)),
      event,
    );
  for (const action of actionNames(definition)) {
    add({ type: `xstate.done.actor.${action}`, output: { by: action } });
    add({ type: `xstate.error.actor.${action}`, error: new Error(`${action} failed`) });
  }
  for (const row of transitionRows(definition)) {
    const when = row.when as Guard | undefined;
    const field = when && 'field' in when ? { [when.field]: when.is } : {};
    const outcome = /^(done|error)\((.+)\)$/.exec(row.event);
    if (!outcome) {
      add({ type: row.event });
      add({ type: row.event, state: row.to, ...field });
      // Facts a row copies from its event: both ways, so guards on them can go either way.
      for (const update of Object.values(row.set ?? {})) {
        const name = (update as { field?: unknown } | null)?.field;
        if (typeof name === 'string') for (const is of [true, false]) add({ type: row.event, [name]: is });
      }
    } else if (outcome[1] === 'done') {
      add({ type: `xstate.done.actor.${outcome[2]}`, output: { by: outcome[2], ...field } });
    } else if (when && 'failed' in when) {
      const name = typeof when.failed === 'string' ? when.failed : when.failed[0]!;
      const error = Object.assign(new Error(`${outcome[2]} failed: ${name}`), { name });
      add({ type: `xstate.error.actor.${outcome[2]}`, error });
    }
  }
  return [...events.values()];
}

/** An event as the table names it: `STOP`, `done(stop)`, `error(stop)`. */
export function tableEvent(event: { type: string }): string {
  const outcome = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
  return outcome ? outcomeEvent(outcome[1] as 'done' | 'error', outcome[2]!) : event.type;
}

export const edgeKey = (from: string, event: string, to: string): string => `${from} --${event}--> ${to}`;
export const tableEdges = (definition: LifecycleDefinition): string[] =>
  transitionRows(definition).map((row) => edgeKey(row.from, row.event, row.to));

const value = (snapshot: { value: unknown }) => String(snapshot.value);
// Only events the state accepts: an ignored event would otherwise count as a self-loop edge.
const accepted = (snapshot: AnyMachineSnapshot, event: LifecycleEvent) => snapshot.can(event);

/**
 * A state as the graph walks it: its name plus what guards read — the facts (numbers capped at 3, so
 * counting is finite) and, in progress, where the operation started. Other context is bookkeeping.
 */
export function vertex(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as LifecycleContext;
  const facts = Object.entries(context.facts ?? {}).map(
    ([k, v]) => `${k}=${typeof v === 'number' ? Math.min(v, 3) : v}`,
  );
  const from = Object.keys(snapshot.children).length > 0 ? ` from ${context.from}` : '';
  return `${value(snapshot)}${from} {${facts.join(',')}}`;
}

/** The graph of the table as the machine walks it, vertices as in `vertex()`. */
export function stateGraph(machine: LifecycleMachine, definition: LifecycleDefinition) {
  const options = {
    events: sampleEvents(definition),
    filterEvents: accepted,
    serializeState: vertex,
    input: { resourceId: 'r-1' },
  };
  const adjacency = getAdjacencyMap(machine, options as never);
  const edges = new Map<string, Set<string>>();
  const states = new Map<string, string>();
  for (const [from, { state, transitions }] of Object.entries(adjacency)) {
    states.set(from, value(state as AnyMachineSnapshot));
    const targets = Object.values(transitions) as { state: AnyMachineSnapshot }[];
    edges.set(from, new Set(targets.map((t) => vertex(t.state))));
  }
  return { edges, states };
}

/**
 * Transition-coverage paths: each vertex is the last transition taken (and the context guards read),
 * so the shortest path to every vertex ends with a different edge; `coveringPaths` keeps one per
 * table transition.
 */
export function transitionPaths(machine: LifecycleMachine, definition: LifecycleDefinition) {
  return getShortestPaths(machine, {
    events: sampleEvents(definition),
    filterEvents: accepted,
    serializeState: (
      s: AnyMachineSnapshot,
      e: LifecycleEvent | undefined,
      prev: AnyMachineSnapshot | undefined,
    ) => (prev && e ? `${edgeKey(value(prev), tableEvent(e), value(s))} ${vertex(s)}` : vertex(s)),
    input: { resourceId: 'r-1' },
  } as never);
}

export type LifecyclePath = ReturnType<typeof transitionPaths>[number];

/** The table edges a path takes (steps hold the state after each event; the first is the initial state). */
export function pathEdges(path: LifecyclePath): string[] {
  return path.steps
    .slice(1)
    .map((step, i) => edgeKey(value(path.steps[i]!.state), tableEvent(step.event), value(step.state)));
}

/** The shortest path ending with each edge: together they take every edge the paths take. */
export function coveringPaths(paths: readonly LifecyclePath[]): LifecyclePath[] {
  const byEdge = new Map<string, LifecyclePath>();
  for (const path of [...paths].sort((a, b) => a.steps.length - b.steps.length)) {
    const last = pathEdges(path).at(-1);
    if (last !== undefined && !byEdge.has(last)) byEdge.set(last, path);
  }
  return [...byEdge.values()];
}

/** One call of a fake action, settled by the test. */
export interface PendingCall {
  input: ActionInput;
  signal: AbortSignal;
  resolve(output: unknown): void;
  reject(error: Error): void;
}

/**
 * Fake actions that wait to be settled by the test: `next(name)` resolves with the next call of that
 * action (or the one already waiting), so tests wait on calls, never on time.
 */
export function fakeActions(names: readonly string[]) {
  const calls: PendingCall[] = [];
  let waiting: PendingCall[] = [];
  const listeners = new Set<() => void>();
  const actions: Record<string, LifecycleAction> = {};
  for (const name of names) {
    actions[name] = (input, signal) =>
      new Promise((resolve, reject) => {
        const call = { input, signal, resolve, reject };
        calls.push(call);
        waiting.push(call);
        for (const listener of listeners) listener();
      });
  }
  return {
    actions,
    calls,
    next(name: string): Promise<PendingCall> {
      return new Promise((resolve) => {
        const check = () => {
          const call = waiting.find((c) => c.input.action === name);
          if (!call) return;
          waiting = waiting.filter((c) => c !== call);
          listeners.delete(check);
          resolve(call);
        };
        listeners.add(check);
        check();
      });
    },
    /** Forget calls of a stopped runner: their results would go nowhere. */
    forget() {
      waiting = [];
    },
  };
}
