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
  coveringPaths,
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
  let computed: ReturnType<typeof transitionPaths> | undefined;
  const paths = () => {
    computed ??= transitionPaths(machine, definition);
    return computed;
  };

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
    const covered = new Set(paths().flatMap(pathEdges));
    expect([...covered].sort()).toEqual([...new Set(tableEdges(definition))].sort());
    expect(coveringPaths(paths())).toHaveLength(new Set(tableEdges(definition)).size);
  });

  it('reaches every state, and a final state from every state: no dead end but the final ones', () => {
    const { edges, states } = stateGraph(machine, definition);
    expect([...new Set(states.values())].sort()).toEqual(Object.keys(definition.states).sort());
    const finalVertex = (v: string) => finals.includes(states.get(v)!);
    for (const [v, targets] of edges) expect(targets.size > 0 || finalVertex(v)).toBe(true);
    const live = new Set([...edges.keys()].filter(finalVertex));
    for (let grew = true; grew; ) {
      grew = false;
      for (const [v, targets] of edges) {
        if (!live.has(v) && [...targets].some((t) => live.has(t))) grew = live.add(v) !== undefined;
      }
    }
    expect([...edges.keys()].filter((v) => !live.has(v))).toEqual([]);
    console.info(
      `${name}: ${edges.size} states with their guarded context, ${Object.keys(definition.states).length} table states, ${tableEdges(definition).length} transitions`,
    );
  });

  it('replays every transition through a runner restarted before and after it', async () => {
    // One path per table row, ending with that row; the steps before it are the ends of shorter
    // paths (replayed with their own restarts), so restarting around the last step covers every row.
    for (const path of coveringPaths(paths())) {
      const last = path.steps.length - 1;
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
            const sent = event as { output?: object; error?: Error };
            if (outcome[1] === 'done') call.resolve({ ...sent.output, step: i });
            else call.reject(Object.assign(new Error(`step ${i} failed`), { name: sent.error!.name }));
            const { context } = await run.waitFor((s) => stateName(s) === String(step.state.value));
            if (outcome[1] === 'done') expect(context.outputs[outcome[2]!]).toMatchObject({ step: i });
            else
              expect(context.error).toMatchObject({
                action: outcome[2],
                failure: { message: `step ${i} failed` },
              });
          }
        }
        expect(stateName(run.getSnapshot())).toBe(String(step.state.value));
        expect(await store.load('r-1')).toMatchObject({ value: step.state.value });
        if (i < last - 1) continue;
        // "Crash" and continue from the store: a running action starts again in the new runner.
        await run.stop();
        fakes.forget();
        run = await start();
        expect(stateName(run.getSnapshot())).toBe(String(step.state.value));
      }
      await run.stop();
    }
  }, 120_000);
});
