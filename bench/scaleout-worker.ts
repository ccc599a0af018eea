import { type FlowJob, FlowProducer, type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fan } from './shapes.js';
import { taskweave } from './taskweave.js';

const { createConductor, createEngine, redisJobBoard, redisStore } = taskweave;

/**
 * One engine process of the scale-out bench (`bench/scaleout.ts`), started as a child with an IPC
 * channel: `node --import tsx bench/scaleout-worker.ts <taskweave|bullmq> <redisUrl> <prefix> <concurrency>`.
 * - taskweave: a conductor (job board + engine on the Redis store) running fan10 jobs.
 * - bullmq: a Worker on the bench queue whose `start` processor adds the fan-in tree (as `bench/bullmq.ts`).
 * It answers `{ type: 'cpu' }` with its `process.cpuUsage()` and its board calls (taskweave: claims that
 * got a job, claims that found none, waits for work), and stops on `{ type: 'stop' }`.
 */
const [kind, url = '', prefix = '', concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!url || !prefix || !(concurrency >= 1) || (kind !== 'taskweave' && kind !== 'bullmq')) {
  console.error(
    `usage: scaleout-worker.ts <taskweave|bullmq> <redisUrl> <prefix> <concurrency>, got ${process.argv}`,
  );
  process.exit(2);
}

const fanInTree = (): FlowJob => ({
  name: 'join',
  queueName: 'bench',
  children: Array.from({ length: 8 }, (_, i) => ({ name: `m${i}`, queueName: 'bench' })),
});

const calls = { claims: 0, emptyClaims: 0, waits: 0 };

async function open(): Promise<() => Promise<void>> {
  if (kind === 'taskweave') {
    const flow = fan(10);
    const board = redisJobBoard({ redis: url, prefix });
    // Count the board calls a conductor makes, to see how the work per job changes with the number of
    // conductors (a claim that finds nothing and the wait that follows are coordination, not work).
    const claim = board.claim.bind(board);
    const waitForWork = board.waitForWork.bind(board);
    board.claim = async (...args) => {
      const got = await claim(...args);
      calls[got ? 'claims' : 'emptyClaims'] += 1;
      return got;
    };
    board.waitForWork = (...args) => {
      calls.waits += 1;
      return waitForWork(...args);
    };
    const store = redisStore({ redis: url, prefix });
    const engine = createEngine({ store, flows: [flow] });
    const conductor = createConductor({ board, engine, concurrency });
    await conductor.start();
    return async () => {
      await conductor.stop({ drain: true });
      await engine.close();
      await store.close();
      await board.close();
    };
  }
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
  const producer = new FlowProducer({ connection, prefix });
  const worker = new Worker(
    'bench',
    async (job: Job) => {
      if (job.name === 'start') await producer.add(fanInTree());
      return job.name;
    },
    { connection: workerConnection, prefix, concurrency },
  );
  await worker.waitUntilReady();
  await producer.waitUntilReady();
  return async () => {
    await worker.close();
    await producer.close();
    connection.disconnect();
    workerConnection.disconnect();
  };
}

const close = await open();
process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') process.send!({ type: 'cpu', cpu: process.cpuUsage(), calls });
  if (message.type === 'stop')
    void close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
process.send!({ type: 'ready' });
