import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  actionNames,
  flowActions,
  type LifecycleDefinition,
  type LifecycleEvent,
  type LifecycleMachine,
  memoryLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverMachine,
  stackLifecycle,
  stackMachine,
  stateName,
  transitionRows,
  volumeLifecycle,
  volumeMachine,
} from '../../machines/index.js';
import { createEngine, type Flow, linear, task } from '../../src/index.js';
import { deferred } from '../support/flows.js';
import { sampleEvents, vertex } from './machines-support.js';

/**
 * A pretend cloud that counts what exists, per resource: each action's flow makes one thing (undone
 * by its revert) and then holds while the test keeps that action busy; a delete flow also sweeps away
 * everything of its resource.
 */
function countingCloud() {
  const live = new Map<string, string>(); // thing → resource
  const holding = new Set<string>();
  const held = deferred<string>(); // the run id of the first flow that holds
  const flowFor = (machine: string, action: string, sweeps: boolean): Flow =>
    linear(`${machine}-${action}`, [
      task({
        name: 'make',
        provides: 'thing',
        execute: (_args, ctx) => {
          const thing = `${action}@${ctx.flowId}`;
          live.set(thing, ctx.flowId.split(':')[0]!);
          return thing;
        },
        revert: ({ result }: { result?: string }) => {
          if (result) live.delete(result);
        },
      }),
      task({
        name: 'hold',
        requires: 'thing',
        provides: 'held',
        execute: async (_args, ctx) => {
          if (!holding.has(action)) return true;
          held.resolve(ctx.flowId);
          await new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          });
        },
      }),
      ...(sweeps
        ? [
            task({
              name: 'sweep',
              requires: 'held',
              execute: (_args, ctx) => {
                const resource = ctx.flowId.split(':')[0]!;
                for (const [thing, owner] of live) if (owner === resource) live.delete(thing);
              },
            }),
          ]
        : []),
    ]);
  return { live, holding, held: held.promise, flowFor };
}

/** The shortest way from a new resource to each state, by plain events and successful outcomes. */
function routes(machine: LifecycleMachine, definition: LifecycleDefinition) {
  const plain = (event: LifecycleEvent) =>
    !event.type.startsWith('xstate.error.') &&
    !(event.type.startsWith('xstate.done.') && Object.keys(event.output as object).length > 1);
  const paths = getShortestPaths(machine, {
    events: sampleEvents(definition).filter(plain),
    filterEvents: (s: AnyMachineSnapshot, e: LifecycleEvent) => s.can(e),
    serializeState: vertex,
    input: { resourceId: 'r' },
  } as never);
  const byState = new Map<string, { event: LifecycleEvent; state: string }[]>();
  for (const path of [...paths].sort((a, b) => a.steps.length - b.steps.length)) {
    const state = String(path.state.value);
    const steps = path.steps
      .slice(1)
      .map((step) => ({ event: step.event as LifecycleEvent, state: String(step.state.value) }));
    if (!byState.has(state)) byState.set(state, steps);
  }
  return byState;
}

const cases: [string, LifecycleMachine, LifecycleDefinition, string][] = [
  ['server', serverMachine, serverLifecycle, 'DELETE'],
  ['volume', volumeMachine, volumeLifecycle, 'FORCE_DELETE'],
  ['stack', stackMachine, stackLifecycle, 'DELETE'],
];

describe.each(cases)('%s: interrupting every in-progress state', (name, machine, definition, deleteEvent) => {
  const inProgress = Object.entries(definition.states).filter(
    ([, state]) => 'action' in state && state.action,
  );
  const finals = Object.entries(definition.states).flatMap(([state, spec]) =>
    'final' in spec && spec.final ? [state] : [],
  );
  const way = routes(machine, definition);

  it.each(
    inProgress.flatMap(([state]) => [deleteEvent, 'RESET_STATE'].map((event) => [state, event] as const)),
  )('%s, then %s: the running action’s flow is reverted and nothing is left behind', async (state, event) => {
    const accepts = machine.root.states[state]!.ownEvents.includes(event);
    if (!accepts) return; // the table does not offer it here (asserted below, per machine)
    const cloud = countingCloud();
    const engine = createEngine();
    const flows = Object.fromEntries(
      actionNames(definition).map((action) => [action, cloud.flowFor(name, action, action === 'delete')]),
    );
    const resourceId = `${name}-${state}-${event}`;
    const run = await runLifecycle(machine, {
      resourceId,
      store: memoryLifecycleStore(),
      actions: flowActions(engine, flows),
    });
    const route = way.get(state)!;
    expect(route, `a way to ${state}`).toBeDefined();
    const action = definition.states[state]!.action!;
    cloud.holding.add(action); // only the action of the state under test holds
    for (const step of route) {
      if (!step.event.type.startsWith('xstate.')) await run.send(step.event);
      await run.waitFor((s) => stateName(s) === step.state);
    }
    const key = `${resourceId}:${action}:${run.getSnapshot().context.runs}`;
    // The action's flow is running and holding: what it made exists.
    expect(await cloud.held).toBe(key);
    expect(cloud.live.has(`${action}@${key}`)).toBe(true);

    const target = transitionRows(definition).find((row) => row.from === state && row.event === event)!.to;
    const moved = await run.send({ type: event, state: target });
    expect(moved.context.interrupted).toEqual([expect.objectContaining({ action, key, state, by: event })]);
    cloud.holding.clear();
    const settled = await run.settled();
    expect(settled.context.interrupted).toEqual([]);
    expect((await engine.get(key))?.meta.status).toBe('REVERTED');
    expect(cloud.live.has(`${action}@${key}`)).toBe(false);
    if (event === deleteEvent) {
      expect(finals).toContain(stateName(settled));
      expect([...cloud.live.values()].filter((owner) => owner === resourceId)).toEqual([]);
    }
    await run.stop();
    await engine.close();
  });

  it(`offers ${deleteEvent} and RESET_STATE where the source does`, () => {
    const offered = (event: string) =>
      inProgress
        .filter(([state]) => machine.root.states[state]!.ownEvents.includes(event))
        .map(([state]) => state);
    console.info(
      `${name}: ${deleteEvent} from ${offered(deleteEvent).length} and RESET_STATE from ${offered('RESET_STATE').length} of ${inProgress.length} in-progress states`,
    );
    expect(offered('RESET_STATE')).toEqual(inProgress.map(([state]) => state));
    const noDelete = inProgress
      .map(([state]) => state)
      .filter((state) => !offered(deleteEvent).includes(state));
    // Cinder refuses a force-delete while attached or migrating; elsewhere a delete while deleting restarts it.
    expect(noDelete).toEqual({ server: [], volume: ['detaching', 'migrating'], stack: [] }[name]);
  });
});
