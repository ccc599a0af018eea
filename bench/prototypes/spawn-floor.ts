import { performance } from 'node:perf_hooks';
import { type AnyStateMachine, createActor, enqueueActions, fromPromise, setup, toPromise } from 'xstate';
import { chainDag, type Dag, fanDag, floorBatch, floorMachine, randomFloorDag } from '../floor.js';
import { median } from '../stats.js';

/**
 * Prototype: is there an XState shape, within the card ("each task a state node whose state invokes its
 * child actor by name"), whose cost per task stays flat with width? The run machine does not carry a
 * region per task: it spawns one small child machine per ready task (the task's own states: RUNNING
 * invoking the task's promise actor, then DONE), counts completions in context, and spawns a task's
 * child when its last dependency's child is done. Every state node of a task lives in its child.
 * One completion = one event at the parent, whatever the number of tasks running.
 *
 * Against the structured floor (chain as states, fan as a parallel state: one region per running task).
 *
 *   npx tsx bench/prototypes/spawn-floor.ts
 */
const taskActor = fromPromise(async ({ input }: { input: string }) => input);

/** A task's own machine: RUNNING invokes the task, DONE is final (its output is the task's value). */
const taskMachine = setup({ actors: { task: taskActor } }).createMachine({
  context: ({ input }: { input: string }) => ({ name: input, value: undefined as unknown }),
  initial: 'RUNNING',
  states: {
    RUNNING: {
      invoke: {
        src: 'task',
        input: ({ context }) => context.name,
        onDone: { target: 'DONE' },
      },
    },
    DONE: { type: 'final' },
  },
  output: ({ context }) => context.name,
});

export function spawnMachine(dag: Dag): AnyStateMachine {
  const index = new Map(dag.tasks.map((t, i) => [t, i]));
  const dependents: number[][] = dag.tasks.map(() => []);
  dag.deps.forEach((deps, i) => {
    for (const d of deps) dependents[d]!.push(i);
  });
  const roots = dag.deps.flatMap((deps, i) => (deps.length === 0 ? [i] : []));
  return setup({
    types: { context: {} as { waiting: number[]; left: number } },
    actors: { taskMachine },
  }).createMachine({
    id: `${dag.name}-spawn`,
    context: () => ({ waiting: dag.deps.map((d) => d.length), left: dag.tasks.length }),
    initial: 'running',
    states: {
      running: {
        entry: enqueueActions(({ enqueue }) => {
          for (const i of roots)
            enqueue.spawnChild('taskMachine', { id: dag.tasks[i]!, input: dag.tasks[i]! });
        }),
        on: {
          'xstate.done.actor.*': [
            { guard: ({ context }) => context.left === 1, target: 'done' },
            {
              actions: enqueueActions(({ context, event, enqueue }) => {
                const name = event.type.slice('xstate.done.actor.'.length);
                const i = index.get(name)!;
                // A done child stays in the snapshot's children until stopped: without this, every event
                // copies a children map that grows with the tasks done (rand1000: 12× fan10's cost).
                enqueue.stopChild(name);
                context.left -= 1;
                for (const j of dependents[i]!) {
                  context.waiting[j]! -= 1;
                  if (context.waiting[j] === 0)
                    enqueue.spawnChild('taskMachine', { id: dag.tasks[j]!, input: dag.tasks[j]! });
                }
              }),
            },
          ],
        },
      },
      done: { type: 'final' },
    },
  }) as unknown as AnyStateMachine;
}

async function check(machine: AnyStateMachine, tasks: number) {
  let started = 0;
  const actor = createActor(machine, {
    inspect: (e) => {
      if (e.type === '@xstate.actor' && (e.actorRef as { src?: unknown }).src === 'task') started++;
    },
  });
  actor.start();
  await toPromise(actor);
  if (started !== tasks) console.warn(`  (expected ${tasks} task actors, saw ${started})`);
}

async function row(dag: Dag, runs: number, inFlight: number, reps: number) {
  const spawn = spawnMachine(dag);
  const floor = dag.kind === 'graph' ? undefined : floorMachine(dag);
  await check(spawn, dag.tasks.length);
  const us = (ms: number) => (ms * 1000) / (runs * dag.tasks.length);
  const warm = Math.max(2, Math.ceil(2000 / dag.tasks.length));
  await floorBatch(spawn, warm, Math.min(inFlight, warm));
  if (floor) await floorBatch(floor, warm, Math.min(inFlight, warm));
  const s: number[] = [];
  const f: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    s.push(us(await floorBatch(spawn, runs, inFlight)));
    if (floor) f.push(us(await floorBatch(floor, runs, inFlight)));
  }
  return { name: dag.name, inFlight, spawn: median(s), floor: floor ? median(f) : undefined };
}

const reps = Number(process.argv[2] ?? 5);
const rows = [];
const t0 = performance.now();
rows.push(await row(chainDag(10), 500, 1, reps));
rows.push(await row(fanDag(10), 500, 1, reps));
rows.push(await row(fanDag(10), 1000, 200, reps));
rows.push(await row(fanDag(100), 20, 1, reps));
rows.push(await row(randomFloorDag(100), 20, 1, reps));
rows.push(await row(randomFloorDag(1000), 2, 1, reps));
const fan10 = rows[1]!.spawn;
console.log(
  '| flow | in flight | spawned child machine per task µs/task | ÷ its fan10 | structured floor µs/task | spawned ÷ floor |',
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.inFlight} | ${r.spawn.toFixed(1)} | ${(r.spawn / fan10).toFixed(2)}× | ${r.floor?.toFixed(1) ?? '—'} | ${r.floor ? `${(r.spawn / r.floor).toFixed(2)}×` : '—'} |`,
  );
console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
