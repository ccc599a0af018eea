import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Engine } from '../src/index.js';
import { type OwnedRedis, startRedis } from '../test/support/redis-server.js';
import { type BenchProcess, forkBenchProcess } from './bench-process.js';
import { runBatch } from './engine.js';
import { chain, fan } from './shapes.js';
import { median } from './stats.js';
import { taskweave } from './taskweave.js';

const { createEngine, redisStore } = taskweave;

/**
 * Distributed execution (`execution: 'distributed'`): runs started by an engine in this process, their
 * tasks executed by 1, 2 or 4 worker processes (`bench/distributed-worker.ts`), on one bench-owned
 * `redis-server` (no persistence, nothing else on it, so its `INFO cpu` is this bench's alone).
 *
 * - **Throughput**: fan10 and chain10, 200 runs in flight, tasks/s and CPU µs per task summed over the
 *   worker processes (`process.cpuUsage` over IPC), this process (starting the runs and following
 *   each through its history) and Redis (`INFO cpu`, user + sys) — as the conductor scale-out rows
 *   (`bench/scaleout.ts`). The same figures for an in-process engine on the same Redis (0 workers) set
 *   them in context. In-flight runs are the same for every worker count; the 200 tasks a worker set
 *   may hold at once are split between its processes (200 / k each).
 * - **Hop latency**: one chain10 at a time, in-process on Redis against distributed with one worker,
 *   ms per task; the difference is what a hop through Redis (dispatch, a worker's read, its reload and
 *   write, the starter following the history) adds to each step.
 *
 * Every measurement alternates with the others repetition by repetition (in-process, 1, 2, 4 workers;
 * in-process, distributed), so background load hits them alike; the figures are medians with ranges.
 * Worker processes not in the measured set hold no worker (no polling): they are told to start and
 * stop around each measurement and stay warm in between.
 */
export type DistributedShape = 'fan10' | 'chain10';

export interface DistributedRow {
  shape: DistributedShape;
  /** Worker processes; 0 is an in-process engine on the same Redis. */
  workers: number;
  runs: number;
  inFlight: number;
  tasksPerSec: number[];
  /** µs of CPU per task, per repetition: workers + starter + Redis. */
  totalUs: number[];
  workersUs: number[];
  starterUs: number[];
  redisUs: number[];
}

export interface HopFigures {
  /** chain10 runs per repetition, one at a time. */
  runs: number;
  /** ms per task, per repetition. */
  inProcessMs: number[];
  distributedMs: number[];
}

export interface DistributedFigures {
  rows: DistributedRow[];
  hop: HopFigures;
}

const workerScript = new URL('./distributed-worker.ts', import.meta.url);

type Child = BenchProcess;

const spawnWorker = (url: string, prefix: string, label: string): Promise<Child> =>
  forkBenchProcess(workerScript, [url, prefix, label], `distributed worker ${label}`);

export async function distributedBench(
  opts: {
    runs?: number;
    reps?: number;
    hopRuns?: number;
    processes?: number[];
    log?: (m: string) => void;
  } = {},
): Promise<DistributedFigures> {
  const runs = opts.runs ?? 200;
  const reps = opts.reps ?? 3;
  const hopRuns = opts.hopRuns ?? 50;
  const inFlight = Math.min(200, runs);
  const counts = opts.processes ?? [1, 2, 4];
  const redis: OwnedRedis = await startRedis();
  const admin = new Redis(redis.url);
  const redisCpu = async () => {
    const text = await admin.info('cpu');
    const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(text)?.[1] ?? 0);
    return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
  };
  const flows = { fan10: fan(10), chain10: chain(10) };
  const prefix = 'twdist';
  const children: Child[] = [];
  const engines: Engine[] = [];
  try {
    children.push(
      ...(await Promise.all(
        Array.from({ length: Math.max(...counts) }, (_, i) => spawnWorker(redis.url, prefix, `w${i}`)),
      )),
    );
    const starterStore = redisStore({ redis: redis.url, prefix });
    const starter = createEngine({
      store: starterStore,
      flows: Object.values(flows),
      execution: 'distributed',
    });
    const inProcessStore = redisStore({ redis: redis.url, prefix: 'twinproc' });
    const inProcess = createEngine({ store: inProcessStore, flows: Object.values(flows) });
    engines.push(starter, inProcess);

    /** Run `n` runs of a shape with k workers taking tasks (k = 0: in-process); ms and CPU µs. */
    const measure = async (shape: DistributedShape, k: number, n: number, at: number) => {
      const active = children.slice(0, k);
      await Promise.all(
        active.map((c) => c.request({ type: 'start', concurrency: inFlight / k }, 'started')),
      );
      const cpus = async () => ({
        workers: (
          await Promise.all(
            children.map((c) => c.request<{ type: 'cpu'; cpu?: NodeJS.CpuUsage }>({ type: 'cpu' }, 'cpu')),
          )
        ).reduce((sum, m) => sum + m.cpu!.user + m.cpu!.system, 0),
        starter: process.cpuUsage().user + process.cpuUsage().system,
        redis: await redisCpu(),
      });
      try {
        const before = await cpus();
        const t0 = performance.now();
        await runBatch(k === 0 ? inProcess : starter, flows[shape], n, at);
        const ms = performance.now() - t0;
        const after = await cpus();
        return {
          ms,
          workers: after.workers - before.workers,
          starter: after.starter - before.starter,
          redis: after.redis - before.redis,
        };
      } finally {
        await Promise.all(active.map((c) => c.request({ type: 'stop' }, 'stopped')));
      }
    };

    // Warm up every process alike (JIT, scripts loaded, consumer groups made), whatever it is measured in.
    opts.log?.('  warming up…');
    for (const shape of ['fan10', 'chain10'] as const) {
      await measure(shape, 0, runs, inFlight);
      await measure(shape, Math.max(...counts), runs * 2, inFlight);
      await measure(shape, 1, runs, inFlight);
    }

    const rows: DistributedRow[] = [];
    const rowOf = (shape: DistributedShape, workers: number) => {
      let row = rows.find((r) => r.shape === shape && r.workers === workers);
      if (!row) {
        row = {
          shape,
          workers,
          runs,
          inFlight,
          tasksPerSec: [],
          totalUs: [],
          workersUs: [],
          starterUs: [],
          redisUs: [],
        };
        rows.push(row);
      }
      return row;
    };
    for (let rep = 0; rep < reps; rep++) {
      for (const shape of ['fan10', 'chain10'] as const) {
        for (const k of [0, ...counts]) {
          const m = await measure(shape, k, runs, inFlight);
          const tasks = runs * 10;
          const row = rowOf(shape, k);
          row.tasksPerSec.push(tasks / (m.ms / 1000));
          row.workersUs.push(m.workers / tasks);
          row.starterUs.push(m.starter / tasks);
          row.redisUs.push(m.redis / tasks);
          row.totalUs.push((m.workers + m.starter + m.redis) / tasks);
        }
      }
      opts.log?.(`  throughput repetition ${rep + 1}/${reps} done`);
    }

    const hop: HopFigures = { runs: hopRuns, inProcessMs: [], distributedMs: [] };
    await measure('chain10', 0, hopRuns, 1);
    await measure('chain10', 1, hopRuns, 1);
    for (let rep = 0; rep < Math.max(reps, 5); rep++) {
      hop.inProcessMs.push((await measure('chain10', 0, hopRuns, 1)).ms / (hopRuns * 10));
      hop.distributedMs.push((await measure('chain10', 1, hopRuns, 1)).ms / (hopRuns * 10));
    }
    opts.log?.('  hop latency done');
    return { rows, hop };
  } finally {
    for (const engine of engines) await engine.close();
    await Promise.all(children.map((c) => c.end({ type: 'exit' })));
    admin.disconnect();
    await redis.stop();
  }
}

/** The figures as lines of text (the standalone run and `npm run bench -- --only=distributed`). */
export function distributedLines({ rows, hop }: DistributedFigures): string[] {
  const f1 = (x: number) => x.toFixed(1);
  const lines = rows.map(
    (r) =>
      `${r.shape.padEnd(7)} ${r.workers === 0 ? 'in-process' : `${r.workers} worker${r.workers > 1 ? 's' : ' '}  `}: ${median(r.tasksPerSec).toFixed(0)} tasks/s (${Math.min(...r.tasksPerSec).toFixed(0)}–${Math.max(...r.tasksPerSec).toFixed(0)}), CPU µs/task total ${f1(median(r.totalUs))} (workers ${f1(median(r.workersUs))}, starter ${f1(median(r.starterUs))}, redis ${f1(median(r.redisUs))})`,
  );
  const inP = median(hop.inProcessMs);
  const dist = median(hop.distributedMs);
  lines.push(
    `chain10 one at a time: in-process ${inP.toFixed(2)} ms/task, distributed (1 worker) ${dist.toFixed(2)} ms/task, a hop adds ${(dist - inP).toFixed(2)} ms/task`,
  );
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const figures = await distributedBench({ runs: quick ? 100 : 200, reps: 3, log: console.log });
  for (const line of distributedLines(figures)) console.log(line);
}
