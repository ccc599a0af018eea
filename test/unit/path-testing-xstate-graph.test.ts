// A user's own xstate/graph walk of a compiled flow, with the key and events of taskweave/testing.
import { describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { compile, type Flow, graph, linear, parallel, retry, task } from '../../src/index.js';
import {
  type FlowSnapshot,
  flowPaths,
  flowTraversal,
  UnknownSnapshotError,
} from '../../src/testing/index.js';

const step = (name: string, requires: string[] = [], provides?: string) =>
  task({ name, requires, ...(provides ? { provides } : {}), execute: () => name, revert: () => {} });
const create = (name: string, kind: string, requires: string[] = []) =>
  task({ name, requires, provides: kind, execute: () => kind, revert: () => {} });

const chain = linear('chain', [step('a'), step('b'), step('c')]);
const diamond = graph('diamond', [
  step('a', [], 'x'),
  step('b', ['x'], 'y'),
  step('c', ['x'], 'z'),
  step('d', ['y', 'z']),
]);
const fan = parallel('fan', [step('a'), step('b'), step('c')]);
const retried = linear('retried', [step('a'), step('b')], { retry: retry.times(2) });
const bootServer = linear('boot-server', [
  create('allocate-ip', 'ip', ['network']),
  parallel('prepare', [create('create-volume', 'volume'), create('create-port', 'port', ['ip'])]),
  linear('spawn', [create('spawn-vm', 'vm', ['volume', 'port'])], { retry: retry.times(2) }),
]);
const inputs = { network: 'net-1' };

/** A path as a name: the task outcomes its events stand for, and the run's end. */
function named(flow: Flow, path: { steps: { event: { type: string } }[]; state: FlowSnapshot }) {
  const { stepOf } = flowTraversal(flow);
  const outcomes = path.steps.flatMap(({ event }) => {
    const s = stepOf(event);
    return s ? [`${s.task}:${s.outcome}`] : [];
  });
  return `${outcomes.join(' ')} → ${path.state.context.status}`;
}

describe('xstate/graph on a compiled flow, with flowTraversal', () => {
  it.each([
    ['chain of 3', chain, {}, 4],
    ['diamond', diamond, {}, 6],
    ['fan-out of 3', fan, {}, 8],
    ['retry.times(2) scope', retried, {}, 7],
    ['boot-server', bootServer, { inputs }, 7],
  ])('getShortestPaths finds the paths flowPaths reports: %s', (_name, flow, options, count) => {
    const { input, serializeState, events, toState } = flowTraversal(flow, options);
    const paths = getShortestPaths(compile(flow).machine, { input, serializeState, events, toState });
    expect(paths).toHaveLength(count);
    expect(paths.map((p) => named(flow, p)).sort()).toEqual(
      flowPaths(flow, options)
        .paths.map((p) => p.name)
        .sort(),
    );
  });

  it('getSimplePaths lists every interleaving, ending in the same states', () => {
    const { machine, input, serializeState, events, toState } = flowTraversal(fan);
    const shortest = getShortestPaths(machine, { input, serializeState, events, toState });
    const simple = getSimplePaths(machine, { input, serializeState, events, toState });
    expect(simple.length).toBeGreaterThan(shortest.length);
    const ends = (paths: { state: FlowSnapshot }[]) => new Set(paths.map((p) => serializeState(p.state)));
    expect(ends(simple)).toEqual(ends(shortest));
    expect(ends(simple).size).toBe(8);
  });

  it('keeps a retry scope’s tries apart, where XState’s [value, status] key folds them', () => {
    const { machine, input, serializeState, events, toState } = flowTraversal(retried);
    const folded = getShortestPaths(machine, {
      input,
      serializeState: (snapshot, event, previous) => {
        serializeState(snapshot, event, previous); // keeps the histories the events function reads
        return JSON.stringify([snapshot.value, snapshot.context.status]);
      },
      events,
      toState,
    });
    // The second try looks like the first, so the walk never sees it fail: no path ends REVERTED.
    expect(folded.map((p) => p.state.context.status)).toEqual(['SUCCESS']);
    expect(getShortestPaths(machine, { input, serializeState, events, toState })).toHaveLength(7);
  });

  it('offers failures up to maxFailures and failing reverts with revertFailures', () => {
    const count = (options: Parameters<typeof flowTraversal>[1]) => {
      const { machine, input, serializeState, events, toState } = flowTraversal(fan, options);
      return getShortestPaths(machine, { input, serializeState, events, toState }).length;
    };
    expect(count({ maxFailures: 0 })).toBe(1);
    expect(count({ maxFailures: 1 })).toBe(4);
    expect(count({ revertFailures: true })).toBeGreaterThan(8);
  });

  it('refuses a snapshot whose predecessor it never keyed (its histories would be lost)', () => {
    const walked = flowTraversal(chain);
    const path = getShortestPaths(walked.machine, { ...walked }).find((p) => p.steps.length > 1);
    const [start, { state, event }] = [path!.steps[0]!.state, path!.steps[1]!];
    const fresh = flowTraversal(chain, { maxFailures: 1 });
    expect(() => fresh.serializeState(state, event, start)).toThrow(UnknownSnapshotError);
    expect(() => fresh.events(state)).toThrow(UnknownSnapshotError);
    expect(walked.serializeState(state, event, start)).toBe(walked.serializeState(state));
  });
});
