import type { AnyMachineSnapshot } from 'xstate';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  type ActionInput,
  actionNames,
  type LifecycleAction,
  type LifecycleDefinition,
  type LifecycleEvent,
  type LifecycleMachine,
  outcomeEvent,
  transitionRows,
} from '../../machines/index.js';

/** What path tests send: each table event (once per target of a choice) and each action's two outcomes. */
export function sampleEvents(definition: LifecycleDefinition): LifecycleEvent[] {
  const events = new Map<string, LifecycleEvent>();
  for (const row of transitionRows(definition)) {
    if (row.event.includes('(')) continue;
    events.set(row.event, { type: row.event });
    events.set(`${row.event}>${row.to}`, { type: row.event, state: row.to });
  }
  for (const action of actionNames(definition)) {
    events.set(`done ${action}`, { type: `xstate.done.actor.${action}`, output: { by: action } });
    events.set(`error ${action}`, {
      type: `xstate.error.actor.${action}`,
      error: new Error(`${action} failed`),
    });
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

/** States as plain names: the graph of the table (context is bookkeeping, not state). */
export function stateGraph(machine: LifecycleMachine, definition: LifecycleDefinition) {
  const options = {
    events: sampleEvents(definition),
    filterEvents: accepted,
    serializeState: (s: AnyMachineSnapshot) => value(s),
    input: { resourceId: 'r-1' },
  };
  const adjacency = getAdjacencyMap(machine, options as never);
  const edges = new Map<string, Set<string>>();
  for (const [from, { transitions }] of Object.entries(adjacency)) {
    const targets = Object.values(transitions) as { state: AnyMachineSnapshot }[];
    edges.set(from, new Set(targets.map((t) => value(t.state))));
  }
  return { edges, simplePaths: getSimplePaths(machine, options as never) };
}

/**
 * Transition-coverage paths: each vertex is the last transition taken, so the shortest path to every
 * vertex ends with a different edge and together they take every edge the machine has.
 */
export function transitionPaths(machine: LifecycleMachine, definition: LifecycleDefinition) {
  return getShortestPaths(machine, {
    events: sampleEvents(definition),
    filterEvents: accepted,
    serializeState: (
      s: AnyMachineSnapshot,
      e: LifecycleEvent | undefined,
      prev: AnyMachineSnapshot | undefined,
    ) => (prev && e ? edgeKey(value(prev), tableEvent(e), value(s)) : value(s)),
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
