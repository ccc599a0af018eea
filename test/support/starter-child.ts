/**
 * An engine in a process of its own that starts one distributed `provision` run, prints `STARTED`
 * once the run is stored (its history holds the first events), then waits to be SIGKILLed.
 *
 *   node --import tsx test/support/starter-child.ts <redisUrl> <prefix> <runId>
 */
import { Redis } from 'ioredis';
import { createEngine, redisStore } from '../../src/index.js';
import { provisionFlow, redisEffects } from './flows.js';

const [url, prefix, runId] = process.argv.slice(2);
if (!url || !prefix || !runId) {
  process.stderr.write('usage: starter-child.ts <redisUrl> <prefix> <runId>\n');
  process.exit(2);
}
const redis = new Redis(url);
const engine = createEngine({
  store: redisStore({ redis: url, prefix }),
  flows: [provisionFlow(redisEffects(redis, prefix), { label: 'starter' })],
  execution: 'distributed',
});
engine.start('provision', { name: 'web' }, { id: runId });
await engine.history(runId);
process.stdout.write('STARTED\n');
setInterval(() => {}, 1_000);
