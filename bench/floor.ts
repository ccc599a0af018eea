import { performance } from 'node:perf_hooks';
import { type AnyStateMachine, createActor, fromPromise, setup, toPromise } from 'xstate';
import { randomDeps } from './shapes.js';

/**
 * The XState floor: what XState v5 itself costs to run the bench's DAGs, hand-written, in this process,
 * with no persistence. One state node per task, one invoked promise actor per task (returning at once,
 * like the bench's tasks), one transition per completion. Every engine figure is also given as a ratio
 * to this.
 *
 * Two floors:
 * - **structured** (`floorMachine`): what a person writes by hand for the shape: a chain is a sequence
 *   of states, a fan is start → a parallel state with one region per middle task → join. No context.
 * - **region per task** (`dagFloorMachine`): the generic shape for any DAG (the random graphs have no
 *   other): a parallel state with one region per task (pending → running → done); a pending task
 *   listens for `xstate.done.actor.<dep>` of each dependency, guarded by "the other dependencies are
 *   done", so one completion is one microstep that also starts the tasks it unblocks. The done flags
 *   live in a context array changed in place by an action (the cheapest bookkeeping XState allows; a
 *   pure reducer would copy what it changes).
 */
export interface Dag {
  name: string;
  /** Task names, in a topological order. */
  tasks: string[];
  /** `deps[i]`: indexes of the tasks task i needs. */
  deps: number[][];
  /** How a hand-written machine follows it: a chain, a fan, or only the generic shape. */
  kind: 'chain' | 'fan' | 'graph';
}

export const chainDag = (n: number): Dag => ({
  name: `chain${n}`,
  tasks: Array.from({ length: n }, (_, i) => `t${i}`),
  deps: Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1])),
  kind: 'chain',
});

export const fanDag = (n: number): Dag => {
  const middle = Array.from({ length: n - 2 }, (_, i) => i + 1);
  return {
    name: `fan${n}`,
    tasks: ['start', ...middle.map((i) => `m${i - 1}`), 'join'],
    deps: [[], ...middle.map(() => [0]), middle],
    kind: 'fan',
  };
};

export const randomFloorDag = (n: number, seed = 42): Dag => ({
  name: `rand${n}`,
  tasks: Array.from({ length: n }, (_, i) => `r${i}`),
  deps: randomDeps(n, seed),
  kind: 'graph',
});

/** The one task actor: a promise actor that resolves at once with its input (the task's name). */
const taskActor = fromPromise(async ({ input }: { input: string }) => input);

type Invoke = { id: string; src: 'task'; input: string; onDone: string };
const invoke = (name: string, onDone: string): Invoke => ({ id: name, src: 'task', input: name, onDone });

/** The structured floor: a chain of states, or start → parallel middle → join. */
export function floorMachine(dag: Dag): AnyStateMachine {
  const base = setup({ actors: { task: taskActor } });
  if (dag.kind === 'chain') {
    const states: Record<string, object> = {};
    dag.tasks.forEach((name, i) => {
      states[name] = { invoke: invoke(name, dag.tasks[i + 1] ?? 'done') };
    });
    states.done = { type: 'final' };
    return base.createMachine({
      id: dag.name,
      initial: dag.tasks[0]!,
      states,
    } as never) as unknown as AnyStateMachine;
  }
  if (dag.kind === 'fan') {
    const middle = dag.tasks.slice(1, -1);
    const regions: Record<string, object> = {};
    for (const name of middle)
      regions[name] = {
        initial: 'running',
        states: { running: { invoke: invoke(name, 'done') }, done: { type: 'final' } },
      };
    return base.createMachine({
      id: dag.name,
      initial: 'start',
      states: {
        start: { invoke: invoke('start', 'middle') },
        middle: { type: 'parallel', states: regions, onDone: 'join' },
        join: { invoke: invoke('join', 'done') },
        done: { type: 'final' },
      },
    } as never) as unknown as AnyStateMachine;
  }
  return dagFloorMachine(dag);
}

/** The generic floor: one region per task, pending tasks listening for their dependencies' done events. */
export function dagFloorMachine(dag: Dag): AnyStateMachine {
  const regions: Record<string, object> = {};
  dag.tasks.forEach((name, i) => {
    const deps = dag.deps[i]!;
    const running = {
      invoke: {
        id: name,
        src: 'task',
        input: name,
        onDone: { target: 'done', actions: { type: 'mark', params: i } },
      },
    };
    const pending = {
      on: Object.fromEntries(
        deps.map((d) => {
          const others = deps.filter((o) => o !== d);
          return [
            `xstate.done.actor.${dag.tasks[d]}`,
            { target: 'running', guard: { type: 'othersDone', params: others } },
          ];
        }),
      ),
    };
    regions[name] = {
      initial: deps.length === 0 ? 'running' : 'pending',
      states: { pending, running, done: { type: 'final' } },
    };
  });
  return setup({
    types: { context: {} as { done: boolean[] } },
    actors: { task: taskActor },
    actions: {
      mark: ({ context }, i: number) => {
        context.done[i] = true;
      },
    },
    guards: {
      othersDone: ({ context }, others: number[]) => others.every((o) => context.done[o]),
    },
  }).createMachine({
    id: `${dag.name}-regions`,
    context: () => ({ done: new Array<boolean>(dag.tasks.length).fill(false) }),
    initial: 'tasks',
    states: {
      tasks: { type: 'parallel', states: regions, onDone: 'done' } as never,
      done: { type: 'final' },
    },
  });
}

/** Run `runs` actors of `machine`, at most `inFlight` at once; ms from the first start to the last done. */
export async function floorBatch(machine: AnyStateMachine, runs: number, inFlight: number): Promise<number> {
  const one = () => toPromise(createActor(machine).start());
  const t0 = performance.now();
  if (inFlight >= runs) {
    await Promise.all(Array.from({ length: runs }, one));
  } else {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        next += 1;
        await one();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }
  return performance.now() - t0;
}

/**
 * Heap per in-flight run of the fan10 floor: `runs` actors started with their eight middle tasks
 * awaiting a latch, heapUsed after `gc()` against before (needs `--expose-gc`).
 */
export async function floorHeapPerRun(runs: number): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  let open!: () => void;
  const latch = new Promise<void>((resolve) => (open = resolve));
  let entered = 0;
  const machine = floorMachine(fanDag(10)).provide({
    actors: {
      task: fromPromise(async ({ input }: { input: string }) => {
        if (input.startsWith('m')) {
          entered += 1;
          await latch;
        }
        return input;
      }),
    },
  });
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    return process.memoryUsage().heapUsed;
  };
  await floorBatch(floorMachine(fanDag(10)), 50, 50);
  const before = await settle();
  const done = Array.from({ length: runs }, () => toPromise(createActor(machine).start()));
  while (entered < runs * 8) await new Promise((r) => setTimeout(r, 5));
  const after = await settle();
  open();
  await Promise.all(done);
  return (after - before) / 1024 / runs;
}
