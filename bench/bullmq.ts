import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type FlowJob, FlowProducer, type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Contender, deleteKeys, median, REDIS_URL, type Shape } from './redis.js';

/**
 * The same DAGs with BullMQ's FlowProducer + one Worker in this process, on the same Redis.
 *
 * BullMQ flows are trees: a parent runs once all its children completed, and a job has one parent.
 * - chain10: one `FlowProducer.add` of a 10-deep tree: t9 is the root, its only child t8, …, t0 the leaf.
 * - fan10 (the same DAG: start → 8 in parallel → join): `start` is added as a one-job flow; its
 *   processor then adds the fan-in tree `join ← m0…m7` with `FlowProducer.add`. (A shared `start` cannot
 *   be a child of all eight middles: a job has one parent.)
 * - fan10 as one tree (a BullMQ-friendly variant, shown for reference): `join ← 9 leaves`, one
 *   `FlowProducer.add`, 10 jobs, but without the start → middle dependency.
 * Jobs keep BullMQ's defaults (completed jobs kept, no retries); processors return at once.
 */
export interface BullThroughput {
  name: string;
  tasks: number;
  flows: number;
  inFlight: number;
  tasksPerSec: number;
  usPerTask: number;
  samples: number[];
}

const QUEUE = 'bench';

const chainTree = (n: number): FlowJob => {
  let node: FlowJob = { name: 't0', queueName: QUEUE };
  for (let i = 1; i < n; i++) node = { name: `t${i}`, queueName: QUEUE, children: [node] };
  return node;
};

const fanInTree = (leaves: number, prefix = 'm'): FlowJob => ({
  name: 'join',
  queueName: QUEUE,
  children: Array.from({ length: leaves }, (_, i) => ({ name: `${prefix}${i}`, queueName: QUEUE })),
});

export type BullShape = Shape | 'fan10tree';

export interface BullmqBench extends Contender {
  batch(shape: BullShape, flows: number, inFlight: number): Promise<number>;
  readonly concurrency: number;
}

/** A FlowProducer and a Worker (`concurrency` jobs at once) under a random prefix; `close()` deletes its keys. */
export async function openBullmq(concurrency = 100): Promise<BullmqBench> {
  const prefix = `bmqbench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const producer = new FlowProducer({ connection, prefix });
  let completed = 0;
  let failure: Error | undefined;
  let waiter: { target: number; resolve: () => void } | undefined;
  const worker = new Worker(
    QUEUE,
    async (job: Job) => {
      // fan10: the start task fans out by adding the fan-in tree (the rest of the DAG).
      if (job.name === 'start') await producer.add(fanInTree(8));
      return job.name;
    },
    { connection: workerConnection, prefix, concurrency },
  );
  worker.on('completed', () => {
    completed += 1;
    if (waiter && completed >= waiter.target) waiter.resolve();
  });
  worker.on('failed', (_job, error) => {
    failure ??= error;
  });
  await worker.waitUntilReady();
  await producer.waitUntilReady();

  const addFlow = (shape: BullShape) =>
    producer.add(
      shape === 'chain10'
        ? chainTree(10)
        : shape === 'fan10'
          ? { name: 'start', queueName: QUEUE }
          : fanInTree(9, 'l'),
    );
  const completions = (target: number) => new Promise<void>((resolve) => (waiter = { target, resolve }));
  let closed = false;

  return {
    concurrency,
    /** `flows` flows, at most `inFlight` unfinished at once (1, all, or waves); ms until all their tasks completed. */
    async batch(shape, flows, inFlight) {
      const t0 = performance.now();
      if (inFlight >= flows) {
        const done = completions(completed + flows * 10);
        await Promise.all(Array.from({ length: flows }, () => addFlow(shape)));
        await done;
      } else if (inFlight === 1) {
        for (let i = 0; i < flows; i++) {
          const done = completions(completed + 10);
          await addFlow(shape);
          await done;
        }
      } else {
        // Waves of `inFlight` flows (used for warm-ups).
        for (let left = flows; left > 0; left -= inFlight) {
          const wave = Math.min(left, inFlight);
          const done = completions(completed + wave * 10);
          await Promise.all(Array.from({ length: wave }, () => addFlow(shape)));
          await done;
        }
      }
      waiter = undefined;
      if (failure) throw failure;
      return performance.now() - t0;
    },
    async close() {
      if (closed) return;
      closed = true;
      await worker.close();
      await producer.close();
      await deleteKeys(connection, [`${prefix}:*`]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}

/** Every BullMQ figure on its own (without the interleaving `bench/index.ts` does). */
export async function bullmqBench(concurrency = 100): Promise<BullThroughput[]> {
  const bull = await openBullmq(concurrency);
  const measure = async (name: string, shape: BullShape, flows: number, inFlight: number, warmup: number) => {
    await bull.batch(shape, warmup, Math.min(inFlight, warmup));
    const samples: number[] = [];
    for (let rep = 0; rep < 3; rep++)
      samples.push((flows * 10) / ((await bull.batch(shape, flows, inFlight)) / 1000));
    const tasksPerSec = median(samples);
    return { name, tasks: 10, flows, inFlight, tasksPerSec, usPerTask: 1e6 / tasksPerSec, samples };
  };
  try {
    return [
      await measure('fan10 × 200 in flight', 'fan10', 200, 200, 400),
      await measure('fan10 as one tree × 200 in flight', 'fan10tree', 200, 200, 400),
      await measure('chain10 × 200 in flight', 'chain10', 200, 200, 400),
      await measure('chain10, one at a time', 'chain10', 50, 1, 20),
    ];
  } finally {
    await bull.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bullmqBench(Number(process.env.BULLMQ_CONCURRENCY ?? 100)), null, 2));
}
