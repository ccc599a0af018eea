import { performance } from 'node:perf_hooks';
import type { AnyStateMachine } from 'xstate';
import type { Engine, Flow } from '../src/index.js';
import {
  chainDag,
  type Dag,
  dagFloorMachine,
  fanDag,
  floorBatch,
  floorMachine,
  randomFloorDag,
} from './floor.js';
import { chain, fan, randomDag } from './shapes.js';
import { median } from './stats.js';
import { taskweave } from './taskweave.js';

const { createEngine } = taskweave;

/**
 * Engine overhead without persistence cost (memory store) against the XState floor (`bench/floor.ts`):
 * µs per task for flows of 10, 100 and 1,000 tasks, one run at a time and many at once. The engine and
 * the floors are measured in alternating repetitions (engine, floor, regions floor, engine, …) so the
 * machine's background load hits them alike.
 */
export interface Stat {
  /** Median µs per task over the repetitions. */
  usPerTask: number;
  /** Every repetition's µs per task. */
  samples: number[];
}

export interface EngineBenchRow {
  shape: string;
  tasks: number;
  runs: number;
  inFlight: number;
  engine: Stat;
  /** The structured hand-written floor (chain / fan), or the region-per-task one for random graphs. */
  floor: Stat;
  /** The generic region-per-task floor, where it was measured. */
  regions: Stat | undefined;
  /** engine ÷ floor per repetition (each pair measured back to back). */
  ratios: number[];
  /** First engine run, including compiling the flow, ms. */
  createMs: number;
}

/** Run `runs` runs of `flow`, at most `inFlight` at once; milliseconds from first start to last result. */
export async function runBatch(engine: Engine, flow: Flow, runs: number, inFlight: number): Promise<number> {
  const t0 = performance.now();
  if (inFlight >= runs) {
    await Promise.all(Array.from({ length: runs }, () => engine.run(flow, {})));
  } else {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        next += 1;
        await engine.run(flow, {});
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }
  return performance.now() - t0;
}

const stat = (samples: number[]): Stat => ({ usPerTask: median(samples), samples });

interface Case {
  flow: Flow;
  dag: Dag;
  runs: number;
  inFlight: number;
  /** Also measure the region-per-task floor (it is the floor itself for random graphs). */
  regions: boolean;
}

async function measure(c: Case, reps: number): Promise<EngineBenchRow> {
  const { flow, dag, runs, inFlight } = c;
  const tasks = dag.tasks.length;
  const engine = createEngine({ flows: [flow] });
  const t0 = performance.now();
  await engine.run(flow, {}); // compile + first run (warm-up, includes compile)
  const createMs = performance.now() - t0;
  const floor = floorMachine(dag);
  const regions = c.regions && dag.kind !== 'graph' ? dagFloorMachine(dag) : undefined;
  // Warm up on ~3,000 tasks each so the JIT has compiled the hot paths before timing starts.
  const warmup = Math.max(1, Math.ceil(3_000 / tasks));
  await runBatch(engine, flow, warmup, Math.min(inFlight, warmup));
  await floorBatch(floor, warmup, Math.min(inFlight, warmup));
  if (regions) await floorBatch(regions, warmup, Math.min(inFlight, warmup));
  const us = (ms: number) => (ms * 1000) / (runs * tasks);
  const e: number[] = [];
  const f: number[] = [];
  const r: number[] = [];
  const timeFloor = (m: AnyStateMachine) => floorBatch(m, runs, inFlight).then(us);
  for (let rep = 0; rep < reps; rep++) {
    e.push(us(await runBatch(engine, flow, runs, inFlight)));
    f.push(await timeFloor(floor));
    if (regions) r.push(await timeFloor(regions));
  }
  await engine.close();
  return {
    shape: flow.name,
    tasks,
    runs,
    inFlight,
    engine: stat(e),
    floor: stat(f),
    regions: regions ? stat(r) : dag.kind === 'graph' ? stat(f) : undefined,
    ratios: e.map((x, i) => x / f[i]!),
    createMs,
  };
}

/** The rows, in order; `quick` uses fewer runs and leaves out the 1,000-task flows. */
export async function engineBench(
  opts: { quick?: boolean; withRand1000?: boolean; reps?: number; log?: (m: string) => void } = {},
): Promise<EngineBenchRow[]> {
  const q = opts.quick ?? false;
  const reps = opts.reps ?? (q ? 3 : 5);
  const cases: Case[] = [
    { flow: chain(10), dag: chainDag(10), runs: q ? 300 : 1000, inFlight: 1, regions: true },
    { flow: fan(10), dag: fanDag(10), runs: q ? 300 : 1000, inFlight: 1, regions: true },
    { flow: fan(10), dag: fanDag(10), runs: q ? 400 : 2000, inFlight: 200, regions: true },
    { flow: chain(10), dag: chainDag(10), runs: q ? 400 : 2000, inFlight: 200, regions: false },
    { flow: chain(100), dag: chainDag(100), runs: q ? 10 : 30, inFlight: 1, regions: false },
    { flow: fan(100), dag: fanDag(100), runs: q ? 5 : 20, inFlight: 1, regions: false },
    { flow: randomDag(10), dag: randomFloorDag(10), runs: q ? 300 : 1000, inFlight: 1, regions: true },
    { flow: randomDag(100), dag: randomFloorDag(100), runs: q ? 5 : 20, inFlight: 1, regions: true },
  ];
  if (!q) cases.push({ flow: chain(1000), dag: chainDag(1000), runs: 3, inFlight: 1, regions: false });
  const rows: EngineBenchRow[] = [];
  for (const c of cases) {
    opts.log?.(`  ${c.flow.name} × ${c.runs}, ${c.inFlight} in flight`);
    rows.push(await measure(c, reps));
  }
  if (!q && (opts.withRand1000 ?? true)) rows.push(await rand1000Row(reps));
  return rows;
}

/**
 * rand1000: the engine, with the structured floor absent (a random graph has no structure to follow)
 * and the region-per-task floor out of reach (XState walks every one of the 1,000 active regions on
 * every microstep); the floor column holds the chain1000 floor, the cheapest XState can do with
 * 1,000 tasks, so the ratio is an upper bound on what a shape could still win.
 */
async function rand1000Row(reps: number): Promise<EngineBenchRow> {
  const flow = randomDag(1000);
  const dag = chainDag(1000);
  const engine = createEngine({ flows: [flow] });
  const t0 = performance.now();
  await engine.run(flow, {});
  const createMs = performance.now() - t0;
  const floor = floorMachine(dag);
  await runBatch(engine, flow, 2, 1);
  await floorBatch(floor, 3, 1);
  const us = (ms: number) => (ms * 1000) / 1000;
  const e: number[] = [];
  const f: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    e.push(us(await runBatch(engine, flow, 1, 1)));
    f.push(us(await floorBatch(floor, 1, 1)));
  }
  await engine.close();
  return {
    shape: 'rand1000 (floor: chain1000)',
    tasks: 1000,
    runs: 1,
    inFlight: 1,
    engine: stat(e),
    floor: stat(f),
    regions: undefined,
    ratios: e.map((x, i) => x / f[i]!),
    createMs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await engineBench({ quick: process.argv.includes('--quick'), log: console.log })) {
    console.log(
      `${row.shape.padEnd(28)} runs=${String(row.runs).padEnd(5)} inFlight=${String(row.inFlight).padEnd(4)} engine ${row.engine.usPerTask.toFixed(1).padStart(7)} floor ${row.floor.usPerTask.toFixed(1).padStart(7)} regions ${row.regions?.usPerTask.toFixed(1).padStart(7) ?? '      -'} µs/task  ×${median(row.ratios).toFixed(2)}  first run ${row.createMs.toFixed(0)} ms`,
    );
  }
}
