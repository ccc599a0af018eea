// README "In-process or distributed?": a distributed engine and a worker (here in one process; in
// production, workers run in as many processes as you like, on any machines sharing the Redis).
import { createEngine, createWorker, redisStore } from 'taskweave';
import { serverBoot } from '../server-boot.js';

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const engine = createEngine({ store: redisStore({ redis, prefix: 'tw' }), flows: [serverBoot], execution: 'distributed' });
const workerStore = redisStore({ redis, prefix: 'tw' });
const worker = createWorker({ store: workerStore, flows: [serverBoot], queues: ['default'], concurrency: 8 });
await worker.start();                         // takes tasks of any run from its queues
const results = await engine.run('server-boot', { network: 'net-1', sizeGb: 20 }); // settles when the stored run ends
await worker.close({ drain: true });          // let held tasks finish; close() alone hands them to other workers
await workerStore.close();                    // a worker leaves its store open
await engine.close();                         // and its store
console.log(`booted ${JSON.stringify(results)}`);
