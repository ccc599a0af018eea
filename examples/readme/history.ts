// README "History and the flow catalog": watch a run's history live, then read and draw it with an
// engine that knows no flows.
import { createEngine, redisStore, toMermaid } from 'taskweave';
import { serverBoot } from '../server-boot.js';

const store = redisStore({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const engine = createEngine({ store, flows: [serverBoot], closeStore: false });
await store.delete('boot-1'); // so this example can run again
const run = engine.start(serverBoot, { network: 'net-1', sizeGb: 20 }, { id: 'boot-1' });

for await (const e of engine.watch('boot-1')) console.log(e.seq, e.task ?? '[run]', e.state);
const info = await createEngine({ store }).get('boot-1'); // no flows registered
console.log(toMermaid(info!.flow!));

await run.result;
await engine.close();
await store.close(); // shared with the second engine: closed once both are done
