import { performance } from 'node:perf_hooks';
import { createEngine, type Engine, type Flow } from '../src/index.js';
import { chain, fan, randomDag } from './shapes.js';

/**
 * Engine overhead without persistence cost (memory store): µs per task for flows of 10, 100 and
 * 1,000 tasks, one run at a time and many at once.
 */
export interface EngineBenchRow {
  shape: string;
  tasks: number;
  runs: number;
  inFlight: number;
  usPerTask: number;
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

async function measure(flow: Flow, tasks: number, runs: number, inFlight: number): Promise<EngineBenchRow> {
  const engine = createEngine({ flows: [flow] });
  const t0 = performance.now();
  await engine.run(flow, {}); // compile + first run (warm-up, includes compile)
  const createMs = performance.now() - t0;
  // Warm up on ~3,000 tasks so the JIT has compiled the hot path before timing starts.
  const warmup = Math.max(2, Math.ceil(3_000 / tasks));
  for (let i = 0; i < warmup; i++) await engine.run(flow, {});
  const elapsed = await runBatch(engine, flow, runs, inFlight);
  await engine.close();
  return { shape: flow.name, tasks, runs, inFlight, usPerTask: (elapsed * 1000) / (runs * tasks), createMs };
}

export async function engineBench(): Promise<EngineBenchRow[]> {
  const rows: EngineBenchRow[] = [];
  rows.push(await measure(chain(10), 10, 2000, 1));
  rows.push(await measure(fan(10), 10, 2000, 1));
  rows.push(await measure(fan(10), 10, 4000, 200));
  rows.push(await measure(chain(100), 100, 40, 1));
  rows.push(await measure(fan(100), 100, 40, 1));
  rows.push(await measure(randomDag(100), 100, 40, 1));
  rows.push(await measure(chain(1000), 1000, 3, 1));
  rows.push(await measure(randomDag(1000), 1000, 3, 1));
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await engineBench()) {
    console.log(
      `${row.shape.padEnd(10)} tasks=${String(row.tasks).padEnd(5)} runs=${String(row.runs).padEnd(5)} inFlight=${String(row.inFlight).padEnd(4)} ${row.usPerTask.toFixed(1).padStart(8)} µs/task  first run ${row.createMs.toFixed(0)} ms`,
    );
  }
}
