import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Engine, Flow, Store } from '../src/index.js';
import { runBatch } from './engine.js';
import { chain, fan, randomDag } from './shapes.js';
import { median } from './stats.js';
import { taskweave } from './taskweave.js';

const { createEngine, linear, parallel, redisStore, task } = taskweave;

/**
 * taskweave persisted to Redis: every transition is one acknowledged, fenced write (the durability
 * barrier holds: a task starts only once the write that marked it RUNNING is acknowledged).
 *
 * - throughput: 200 runs in flight at once (fan10, chain10), and chain10 one run at a time;
 * - per-task cost of a 1,000-task flow against a 10-task flow, one run at a time;
 * - memory per 1,000 concurrent runs (needs `global.gc`: run node with `--expose-gc`).
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Throughput {
  name: string;
  tasks: number;
  runs: number;
  inFlight: number;
  /** Medians over the repetitions. */
  tasksPerSec: number;
  usPerTask: number;
  /** Every repetition's tasks/s, to show the spread. */
  samples: number[];
  /** Store writes per task and bytes of parts per write (the last repetition). */
  writesPerTask: number;
  bytesPerWrite: number;
}

export interface MemoryFigure {
  runs: number;
  /** Tasks running (awaiting the latch) when measured. */
  runningTasks: number;
  heapPerRunKB: number;
  rssPerRunKB: number;
  /** Time to start the runs and see every latched task running. */
  startMs: number;
}

export interface RedisBench {
  fan10Concurrent: Throughput;
  chain10Concurrent: Throughput;
  chain10Serial: Throughput;
  /** chain10 one at a time, measured again right before chain1000 (the per-task ratio's denominator). */
  chain10SerialAgain: Throughput;
  chain1000Serial: Throughput;
  rand10Serial: Throughput;
  rand1000Serial: Throughput | undefined;
  memory: MemoryFigure | undefined;
}

/** A store that counts the writes going through it and the bytes of parts they carry. */
function counting(store: Store) {
  const counts = { saves: 0, bytes: 0 };
  const wrapped: Store = {
    ...store,
    save(write) {
      counts.saves += 1;
      for (const [name, value] of Object.entries(write.set)) counts.bytes += name.length + value.length;
      return store.save(write);
    },
  };
  return { store: wrapped, counts };
}

export { median };

async function throughput(
  engine: Engine,
  counts: { saves: number; bytes: number },
  flow: Flow,
  opts: { name: string; tasks: number; runs: number; inFlight: number; warmup: number; reps: number },
): Promise<Throughput> {
  const { tasks, runs, inFlight } = opts;
  if (opts.warmup > 0) await runBatch(engine, flow, opts.warmup, Math.min(inFlight, opts.warmup));
  const samples: number[] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    counts.saves = 0;
    counts.bytes = 0;
    const ms = await runBatch(engine, flow, runs, inFlight);
    samples.push((runs * tasks) / (ms / 1000));
  }
  return throughputRow(opts.name, tasks, runs, inFlight, samples, counts);
}

export function throughputRow(
  name: string,
  tasks: number,
  runs: number,
  inFlight: number,
  samples: number[],
  counts: { saves: number; bytes: number },
): Throughput {
  const tasksPerSec = median(samples);
  return {
    name,
    tasks,
    runs,
    inFlight,
    tasksPerSec,
    usPerTask: 1e6 / tasksPerSec,
    samples,
    writesPerTask: counts.saves / (runs * tasks),
    bytesPerWrite: counts.saves ? counts.bytes / counts.saves : 0,
  };
}

/** A fan10 whose eight middle tasks wait on a latch: `entered` counts tasks that are running. */
function latchedFan() {
  let open!: () => void;
  const latch = new Promise<void>((resolve) => (open = resolve));
  const state = { entered: 0 };
  const flow = linear('latchedFan10', [
    task({ name: 'start', execute: () => 'start' }),
    parallel(
      'middle',
      Array.from({ length: 8 }, (_, i) =>
        task({
          name: `m${i}`,
          async execute() {
            state.entered += 1;
            await latch;
            return i;
          },
        }),
      ),
    ),
    task({ name: 'join', execute: () => 'join' }),
  ]);
  return { flow, state, open: () => open() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settleHeap(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage();
}

/** Heap and RSS added by 1,000 runs in flight (8 tasks of each running, awaiting a latch). */
async function memoryPerRuns(store: Store, runs: number): Promise<MemoryFigure | undefined> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') return undefined;
  const warm = latchedFan();
  const engine = createEngine({ store, flows: [warm.flow], closeStore: false }); // the store is the bench's
  // Warm up: compile, connections, scripts loaded.
  warm.open();
  await Promise.all(Array.from({ length: 50 }, () => engine.run(warm.flow, {})));
  const { flow, state, open } = latchedFan();
  engine.register(flow);
  const before = await settleHeap();
  const t0 = performance.now();
  const results = Array.from({ length: runs }, () => engine.run(flow, {}));
  while (state.entered < runs * 8) await sleep(5);
  const startMs = performance.now() - t0;
  await sleep(50); // let the RUNNING writes settle
  const after = await settleHeap();
  open();
  await Promise.all(results);
  await engine.close();
  return {
    runs,
    runningTasks: state.entered,
    heapPerRunKB: (after.heapUsed - before.heapUsed) / 1024 / runs,
    rssPerRunKB: (after.rss - before.rss) / 1024 / runs,
    startMs,
  };
}

/** Delete every key under `prefix` (runs are `{prefix:id}:…`, the flow catalog `{prefix}:flow:…`, indexes `prefix:idx:…`). */
export async function deleteKeys(redis: Redis, patterns: string[]): Promise<number> {
  let deleted = 0;
  for (const match of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

export type Shape = 'fan10' | 'chain10';

/** Something that runs `runs` flows of a shape, at most `inFlight` at once, and says how long it took (ms). */
export interface Contender {
  batch(shape: Shape, runs: number, inFlight: number): Promise<number>;
  close(): Promise<void>;
}

export interface TaskweaveBench extends Contender {
  /** Store writes and bytes of parts since the last `batch` started. */
  readonly counts: { saves: number; bytes: number };
  /** Per-task cost and memory figures (run on their own, not interleaved). */
  sizes(opts: {
    withRand1000: boolean;
  }): Promise<Omit<RedisBench, 'fan10Concurrent' | 'chain10Concurrent' | 'chain10Serial'>>;
}

/** An engine on a Redis store under a random prefix; `close()` deletes every key it wrote. */
export async function openTaskweave(url = REDIS_URL): Promise<TaskweaveBench> {
  const prefix = `twbench-${randomBytes(4).toString('hex')}`;
  const admin = new Redis(url, { lazyConnect: true });
  await admin.connect();
  const base = redisStore({ redis: url, prefix });
  const { store, counts } = counting(base);
  const flows = { fan10: fan(10), chain10: chain(10) };
  const engine = createEngine({ store, flows: Object.values(flows) });
  let closed = false;
  return {
    counts,
    batch(shape, runs, inFlight) {
      counts.saves = 0;
      counts.bytes = 0;
      return runBatch(engine, flows[shape], runs, inFlight);
    },
    async sizes({ withRand1000 }) {
      const chain1000 = chain(1000);
      const rand10 = randomDag(10);
      const rand1000 = randomDag(1000);
      engine.register(chain1000, rand10, rand1000);
      const serial = (flow: Flow, name: string, tasks: number, runs: number, warmup: number, reps: number) =>
        throughput(engine, counts, flow, { name, tasks, runs, inFlight: 1, warmup, reps });
      const chain10Serial = await serial(flows.chain10, 'chain10, one at a time', 10, 200, 200, 3);
      const chain1000Serial = await serial(chain1000, 'chain1000, one at a time', 1000, 1, 1, 3);
      const rand10Serial = await serial(rand10, 'rand10, one at a time', 10, 200, 200, 3);
      const rand1000Serial = withRand1000
        ? // One warm-up run: rand1000's first run spends ~1 s compiling its machine, which is not a per-task cost.
          await serial(rand1000, 'rand1000, one at a time', 1000, 2, 1, 3)
        : undefined;
      const memory = await memoryPerRuns(base, 1000);
      return { chain10SerialAgain: chain10Serial, chain1000Serial, rand10Serial, rand1000Serial, memory };
    },
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
      await base.close();
      await deleteKeys(admin, [`{${prefix}:*`, `{${prefix}}:*`, `${prefix}:*`]);
      admin.disconnect();
    },
  };
}

/** Every taskweave-on-Redis figure on its own (without the interleaving `bench/index.ts` does). */
export async function redisBench(opts: { withRand1000?: boolean } = {}): Promise<RedisBench> {
  const tw = await openTaskweave();
  try {
    const measure = async (shape: Shape, runs: number, inFlight: number, warmup: number, name: string) => {
      await tw.batch(shape, warmup, Math.min(warmup, inFlight));
      const samples: number[] = [];
      for (let rep = 0; rep < 3; rep++)
        samples.push((runs * 10) / ((await tw.batch(shape, runs, inFlight)) / 1000));
      return throughputRow(name, 10, runs, inFlight, samples, tw.counts);
    };
    return {
      fan10Concurrent: await measure('fan10', 200, 200, 400, 'fan10 × 200 in flight'),
      chain10Concurrent: await measure('chain10', 200, 200, 400, 'chain10 × 200 in flight'),
      chain10Serial: await measure('chain10', 200, 1, 200, 'chain10, one at a time'),
      ...(await tw.sizes({ withRand1000: opts.withRand1000 ?? false })),
    };
  } finally {
    await tw.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    JSON.stringify(await redisBench({ withRand1000: process.argv.includes('--rand1000') }), null, 2),
  );
}
