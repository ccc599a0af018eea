import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FlowProducer } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobBoard } from '../src/index.js';
import { type OwnedRedis, startRedis } from '../test/support/redis-server.js';
import { type BenchProcess, forkBenchProcess } from './bench-process.js';
import { median } from './stats.js';
import { taskweave } from './taskweave.js';

const { redisJobBoard } = taskweave;

/**
 * Scale-out cost: fan10 jobs through 1, 2 and 4 engine processes sharing one bench-owned
 * `redis-server` (no persistence, nothing else on it), for taskweave (conductors on a job board) and
 * BullMQ (Workers on a queue, flows added by this process). On a 2-core machine wall-clock speed-up
 * cannot show whether more engines cost coordination, so this measures CPU time per task summed over
 * every process involved: the engine processes (`process.cpuUsage` over IPC), this process (posting
 * the jobs and polling for their end) and Redis (`INFO cpu`, user + sys). Redis CPU per task gives the
 * tasks/s one Redis node can carry (one core fully busy running commands).
 *
 * The in-flight total is the same for every process count: each of k processes runs 200 / k jobs at once.
 */
export interface ScaleRow {
  system: 'taskweave' | 'bullmq';
  processes: number;
  jobs: number;
  tasksPerSec: number[];
  /** Claims that found no job and waits for work, per job, per repetition (taskweave only). */
  emptyClaimsPerJob: number[];
  waitsPerJob: number[];
  /** µs of CPU per task, per repetition: all processes and Redis. */
  totalUs: number[];
  enginesUs: number[];
  posterUs: number[];
  redisUs: number[];
}

const worker = new URL('./scaleout-worker.ts', import.meta.url);

interface Calls {
  claims: number;
  emptyClaims: number;
  waits: number;
}

interface Child {
  process: BenchProcess;
  /** CPU time (µs) the process used so far; also updates `calls`. */
  cpu(): Promise<number>;
  calls: Calls;
}

async function spawnWorker(kind: string, url: string, prefix: string, concurrency: number): Promise<Child> {
  const child = await forkBenchProcess(worker, [kind, url, prefix, String(concurrency)], `scale-out ${kind}`);
  const out: Child = {
    process: child,
    calls: { claims: 0, emptyClaims: 0, waits: 0 },
    async cpu() {
      const m = await child.request<{ type: 'cpu'; cpu: NodeJS.CpuUsage; calls?: Calls }>(
        { type: 'cpu' },
        'cpu',
      );
      if (m.calls) out.calls = m.calls;
      return m.cpu.user + m.cpu.system;
    },
  };
  return out;
}

const stopWorker = (child: Child): Promise<void> => child.process.end({ type: 'stop' });

/** One system's side: k engine processes, and how this process feeds them `jobs` fan10 runs and waits. */
interface Side {
  children: Child[];
  /** Post the jobs, resolve when all their tasks are done. */
  feed(jobs: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sumCalls = (children: Child[]): Calls =>
  children.reduce(
    (a, c) => ({
      claims: a.claims + c.calls.claims,
      emptyClaims: a.emptyClaims + c.calls.emptyClaims,
      waits: a.waits + c.calls.waits,
    }),
    { claims: 0, emptyClaims: 0, waits: 0 },
  );

async function taskweaveSide(url: string, k: number): Promise<Side> {
  const prefix = `twscale-${randomBytes(3).toString('hex')}`;
  const children = await Promise.all(
    Array.from({ length: k }, () => spawnWorker('taskweave', url, prefix, 200 / k)),
  );
  const board: JobBoard = redisJobBoard({ redis: url, prefix });
  return {
    children,
    async feed(jobs) {
      const base = (await board.counts()).COMPLETE;
      await Promise.all(Array.from({ length: jobs }, () => board.post({ flow: 'fan10' })));
      while ((await board.counts()).COMPLETE < base + jobs) await sleep(20);
    },
    async close() {
      await Promise.all(children.map(stopWorker));
      await board.close();
    },
  };
}

async function bullmqSide(url: string, k: number): Promise<Side> {
  const prefix = `bmqscale-${randomBytes(3).toString('hex')}`;
  const children = await Promise.all(
    Array.from({ length: k }, () => spawnWorker('bullmq', url, prefix, 200 / k)),
  );
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const producer = new FlowProducer({ connection, prefix });
  const completed = () => connection.zcard(`${prefix}:bench:completed`);
  return {
    children,
    async feed(jobs) {
      const base = await completed();
      await Promise.all(
        Array.from({ length: jobs }, () => producer.add({ name: 'start', queueName: 'bench' })),
      );
      while ((await completed()) < base + jobs * 10) await sleep(20);
    },
    async close() {
      await Promise.all(children.map(stopWorker));
      await producer.close();
      connection.disconnect();
    },
  };
}

export async function scaleOut(
  opts: { jobs?: number; reps?: number; processes?: number[]; log?: (m: string) => void } = {},
): Promise<{ rows: ScaleRow[]; redisVersion: string }> {
  const jobs = opts.jobs ?? 600;
  const reps = opts.reps ?? 3;
  const redis: OwnedRedis = await startRedis();
  const admin = new Redis(redis.url);
  const redisCpu = async () => {
    const text = await admin.info('cpu');
    const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(text)?.[1] ?? 0);
    return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
  };
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
  const rows: ScaleRow[] = [];
  try {
    for (const k of opts.processes ?? [1, 2, 4]) {
      opts.log?.(`  ${k} engine process${k > 1 ? 'es' : ''} each`);
      const sides = { taskweave: await taskweaveSide(redis.url, k), bullmq: await bullmqSide(redis.url, k) };
      try {
        // Warm up every child alike (the same jobs per process whatever k), so that no process count is
        // measured on less JIT-compiled code than another.
        for (const side of Object.values(sides)) await side.feed(300 * k);
        const row = (system: ScaleRow['system']): ScaleRow => ({
          system,
          processes: k,
          jobs,
          tasksPerSec: [],
          totalUs: [],
          enginesUs: [],
          emptyClaimsPerJob: [],
          waitsPerJob: [],
          posterUs: [],
          redisUs: [],
        });
        const out = { taskweave: row('taskweave'), bullmq: row('bullmq') };
        for (let rep = 0; rep < reps; rep++) {
          for (const system of ['taskweave', 'bullmq'] as const) {
            const side = sides[system];
            const cpus = async () => ({
              engines: (await Promise.all(side.children.map((c) => c.cpu()))).reduce((a, b) => a + b, 0),
              poster: process.cpuUsage().user + process.cpuUsage().system,
              redis: await redisCpu(),
            });
            const before = await cpus();
            const callsBefore = sumCalls(side.children);
            const t0 = performance.now();
            await side.feed(jobs);
            const ms = performance.now() - t0;
            const after = await cpus();
            const callsAfter = sumCalls(side.children);
            const tasks = jobs * 10;
            const r = out[system];
            r.tasksPerSec.push(tasks / (ms / 1000));
            r.enginesUs.push((after.engines - before.engines) / tasks);
            r.emptyClaimsPerJob.push((callsAfter.emptyClaims - callsBefore.emptyClaims) / jobs);
            r.waitsPerJob.push((callsAfter.waits - callsBefore.waits) / jobs);
            r.posterUs.push((after.poster - before.poster) / tasks);
            r.redisUs.push((after.redis - before.redis) / tasks);
            r.totalUs.push(r.enginesUs.at(-1)! + r.posterUs.at(-1)! + r.redisUs.at(-1)!);
          }
        }
        rows.push(out.taskweave, out.bullmq);
      } finally {
        await sides.taskweave.close();
        await sides.bullmq.close();
      }
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  return { rows, redisVersion };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const { rows } = await scaleOut({ jobs: quick ? 200 : 600, reps: 3, log: console.log });
  for (const r of rows)
    console.log(
      `${r.system.padEnd(9)} ×${r.processes}: ${median(r.tasksPerSec).toFixed(0)} tasks/s, CPU µs/task total ${median(r.totalUs).toFixed(1)} (engines ${median(r.enginesUs).toFixed(1)}, poster ${median(r.posterUs).toFixed(1)}, redis ${median(r.redisUs).toFixed(1)}), per job: ${median(r.emptyClaimsPerJob).toFixed(2)} empty claims, ${median(r.waitsPerJob).toFixed(2)} waits`,
    );
}
