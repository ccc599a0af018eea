import { describe, expect, it } from 'vitest';
import { toDirectedGraph } from 'xstate/graph';
import {
  type LifecycleDefinition,
  type LifecycleMachine,
  type LifecycleRun,
  memoryLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverMachine,
  stackLifecycle,
  stackMachine,
  stateName,
  volumeLifecycle,
  volumeMachine,
} from '../../machines/index.js';
import { actionNames } from '../../machines/table.js';
import {
  edgeKey,
  fakeActions,
  pathEdges,
  stateGraph,
  tableEdges,
  tableEvent,
  transitionPaths,
} from './machines-support.js';

const cases: [string, LifecycleMachine, LifecycleDefinition][] = [
  ['server', serverMachine, serverLifecycle],
  ['volume', volumeMachine, volumeLifecycle],
  ['stack', stackMachine, stackLifecycle],
];

describe.each(cases)('%s lifecycle graph', (name, machine, definition) => {
  const finals = Object.entries(definition.states).flatMap(([state, spec]) => (spec.final ? [state] : []));

  it('has exactly the table’s transitions (toDirectedGraph)', () => {
    const drawn: string[] = [];
    for (const node of toDirectedGraph(machine).children) {
      for (const edge of node.edges) {
        drawn.push(
          edgeKey(node.stateNode.key, tableEvent({ type: edge.transition.eventType }), edge.target.key),
        );
      }
    }
    expect(drawn.sort()).toEqual(tableEdges(definition).sort());
  });

  it('covers every table transition with some path, and no other', () => {
    const paths = transitionPaths(machine, definition);
    const covered = new Set(paths.flatMap(pathEdges));
    expect([...covered].sort()).toEqual([...new Set(tableEdges(definition))].sort());
    // One path per transition plus the empty one to the initial state.
    expect(paths).toHaveLength(tableEdges(definition).length + 1);
  });

  it('reaches every state, and a final state from every state: no dead end but the final ones', () => {
    const { edges, simplePaths } = stateGraph(machine, definition);
    expect([...edges.keys()].sort()).toEqual(Object.keys(definition.states).sort());
    for (const [state, targets] of edges) expect(targets.size > 0 || finals.includes(state)).toBe(true);
    const live = new Set(finals);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [state, targets] of edges) {
        if (!live.has(state) && [...targets].some((t) => live.has(t))) grew = live.add(state) !== undefined;
      }
    }
    expect([...live].sort()).toEqual([...edges.keys()].sort());
    expect(simplePaths.length).toBeGreaterThan(edges.size);
    console.info(
      `${name}: ${simplePaths.length} simple paths, ${edges.size} states, ${tableEdges(definition).length} transitions`,
    );
  });

  it('replays every transition path through a runner restarted after each step', async () => {
    for (const path of transitionPaths(machine, definition)) {
      const store = memoryLifecycleStore();
      const fakes = fakeActions(actionNames(definition));
      const start = () => runLifecycle(machine, { resourceId: 'r-1', actions: fakes.actions, store });
      let run: LifecycleRun = await start();
      for (const [i, step] of path.steps.entries()) {
        if (i > 0) {
          const event = step.event;
          const outcome = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
          if (!outcome) await run.send(event);
          else {
            const call = await fakes.next(outcome[2]!);
            if (outcome[1] === 'done') call.resolve({ step: i });
            else call.reject(new Error(`step ${i} failed`));
            const { context } = await run.waitFor((s) => stateName(s) === String(step.state.value));
            if (outcome[1] === 'done') expect(context.outputs[outcome[2]!]).toEqual({ step: i });
            else
              expect(context.error).toMatchObject({
                action: outcome[2],
                failure: { message: `step ${i} failed` },
              });
          }
        }
        expect(stateName(run.getSnapshot())).toBe(String(step.state.value));
        expect(await store.load('r-1')).toMatchObject({ value: step.state.value });
        // "Crash" and continue from the store: a running action starts again in the new runner.
        await run.stop();
        fakes.forget();
        run = await start();
        expect(stateName(run.getSnapshot())).toBe(String(step.state.value));
      }
      await run.stop();
    }
  });
});
