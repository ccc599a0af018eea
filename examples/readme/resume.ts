// README "Resume": a run whose engine died is taken over by another engine (here, in one process).
import { createEngine, redisStore } from 'taskweave';
import { makeServerBoot } from '../server-boot.js';

const serverBoot = makeServerBoot();

// An engine starts boot-1 and goes away halfway (as if its process died).
const first = createEngine({
  store: redisStore({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  flows: [serverBoot],
});
await first.store.delete('boot-1'); // so this example can run again
const started = first.start(serverBoot, { network: 'net-1', sizeGb: 20 }, { id: 'boot-1' });
await new Promise<void>((resolve) => started.on('task', (e) => e.task === 'create-port' && resolve()));
await first.close(); // the run stays stored
await started.result.catch(() => {});

const engine = createEngine({
  store: redisStore({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  flows: [serverBoot],
});
const run = await engine.resume('boot-1'); // after the engine that started it died
await run.result;
await engine.close(); // closes the store too (closeStore: false keeps a shared store open)
console.log(`boot-1 is ${run.status}`);
