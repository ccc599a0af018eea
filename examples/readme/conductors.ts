// README "Running many engines": a board, an engine and a conductor in one process.
import { createConductor, createEngine, redisJobBoard, redisStore } from 'taskweave';
import { serverBoot } from '../server-boot.js';

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const board = redisJobBoard({ redis, prefix: 'tw' });
await board.post({ flow: 'server-boot', inputs: { network: 'net-1', sizeGb: 20 }, id: 'req-42' }); // idempotent by id

const engine = createEngine({ store: redisStore({ redis, prefix: 'tw' }), flows: [serverBoot] });
const conductor = createConductor({ board, engine, concurrency: 8, leaseMs: 10_000 });
conductor.on('takeover', (e) => console.log('took over', e));
await conductor.start();                     // rejects if Redis cannot be reached
const job = await board.wait('req-42');      // { state: 'COMPLETE', results, attempts, takeovers, ... }
await conductor.stop({ drain: true });
await engine.close();                        // and its store
await board.close();
console.log(`req-42 is ${job.state}`);
