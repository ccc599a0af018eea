import { performance } from 'node:perf_hooks';
import { type AnyStateMachine, createActor, fromPromise } from 'xstate';
import { compile, createEngine, type Flow } from '../../src/index.js';
import { runBatch } from '../engine.js';
import { chainDag, type Dag, fanDag, floorBatch, floorMachine } from '../floor.js';
import { chain, fan } from '../shapes.js';
import { median } from '../stats.js';

/**
 * Where the engine's cost above the XState floor goes (memory store), by taking layers away, each
 * measured in alternating repetitions:
 *   engine   `engine.run` on the memory store: compiled machine + run writer (snapshot split, store
 *            write, durability barrier per task) + reports;
 *   machine  the compiled machine alone (`compile(flow).machine`, public API): `createActor`, start,
 *            wait for the context's status SUCCESS; its task actors' default hooks (no barrier, no store);
 *   bare     the compiled machine with its `execute` actor replaced by a bare promise actor resolving to
 *            what the effect actor's done event carries (`{ value, at }`): the transitions alone, without
 *            the task actor's wrapping (hooks, timeout, argument decoding, result encoding);
 *   floor    the hand-written XState floor (bench/floor.ts).
 * bare ÷ floor is what the compiled transitions cost; machine ÷ bare the task actor's wrapping; engine ÷
 * machine what the engine around the machine costs (writer, snapshot parts, barrier, reports).
 *
 *   npx tsx bench/prototypes/ablation.ts [reps] [chain|fan]
 */
function machineBatch(machine: AnyStateMachine, runs: number, inFlight: number): Promise<number> {
  let id = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const actor = createActor(machine, { input: { runId: `r${id++}`, inputs: {} } });
      actor.subscribe({
        next: (s) => {
          const status = (s.context as { status: string }).status;
          if (status === 'SUCCESS') {
            actor.stop();
            resolve();
          } else if (status !== 'RUNNING') reject(new Error(`run ended ${status}`));
        },
        error: reject,
      });
      actor.start();
    });
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < runs) {
      next += 1;
      await one();
    }
  };
  return Promise.all(Array.from({ length: Math.min(inFlight, runs) }, worker)).then(
    () => performance.now() - t0,
  );
}

async function row(flow: Flow, dag: Dag, runs: number, inFlight: number, reps: number) {
  const engine = createEngine({ flows: [flow] });
  const machine = compile(flow).machine as unknown as AnyStateMachine;
  const bare = machine.provide({
    actors: {
      execute: fromPromise(async ({ input }: { input: { task: string } }) => ({ value: input.task, at: 0 })),
    },
  }) as unknown as AnyStateMachine;
  const floor = floorMachine(dag);
  const tasks = dag.tasks.length;
  const us = (ms: number) => (ms * 1000) / (runs * tasks);
  await runBatch(engine, flow, 300, Math.min(inFlight, 300));
  await machineBatch(machine, 300, inFlight);
  await machineBatch(bare, 300, inFlight);
  await floorBatch(floor, 300, Math.min(inFlight, 300));
  const e: number[] = [];
  const m: number[] = [];
  const b: number[] = [];
  const f: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    e.push(us(await runBatch(engine, flow, runs, inFlight)));
    m.push(us(await machineBatch(machine, runs, inFlight)));
    b.push(us(await machineBatch(bare, runs, inFlight)));
    f.push(us(await floorBatch(floor, runs, inFlight)));
  }
  await engine.close();
  const r = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!)).toFixed(2);
  console.log(
    `| ${flow.name} | ${inFlight} | ${median(e).toFixed(1)} | ${median(m).toFixed(1)} | ${median(b).toFixed(1)} | ${median(f).toFixed(1)} | ${r(b, f)}× | ${r(m, b)}× | ${r(e, m)}× | ${r(e, f)}× |`,
  );
}

const reps = Number(process.argv[2] ?? 5);
const only = process.argv[3];
console.log(
  '| flow | in flight | engine µs/task | machine µs/task | bare µs/task | floor µs/task | bare ÷ floor | machine ÷ bare | engine ÷ machine | engine ÷ floor |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
if (!only || only === 'chain') await row(chain(10), chainDag(10), 500, 1, reps);
if (!only) await row(fan(10), fanDag(10), 500, 1, reps);
if (!only || only === 'fan') await row(fan(10), fanDag(10), 1000, 200, reps);
if (!only) await row(chain(10), chainDag(10), 1000, 200, reps);
