/**
 * A worker in a process of its own, for the distributed kill tests: it executes `provision` and
 * `chain` tasks (test/support/flows.ts) and `chaos10` tasks (chaos-flow.ts), recording every effect in
 * Redis, and prints what it does.
 *
 *   node --import tsx test/support/worker-child.ts <redisUrl> <prefix> <label> <behaviour JSON> [worker options JSON] [provision versions JSON]
 *
 * `<redisUrl>` may be `cluster:<port>,<port>,…`: a Redis Cluster on 127.0.0.1.
 *
 * Provision versions (default `["1"]`): which structures of `provision` it knows; `"2"` is v2, with an
 * `announce` task after `boot` (a rolling deploy's new code).
 * Prints `READY` once taking tasks, `HANGING <kind> <task>` when a task hangs (behaviour hangExecute
 * or hangRevert), `DROPPED <reason>` for every message it dropped, `PASSED <task> <to>` for every message
 * of a flow version it does not know that it passed on, `RELAYED <n>` when it relayed n steps a dead
 * process left in a Cluster's outbox, `CLOSED` after close() on SIGTERM.
 */
import { Cluster, Redis } from 'ioredis';
import { createWorker, redisStore } from '../../src/index.js';
import { chaosFlow } from './chaos-flow.js';
import { type Behaviour, chainFlow, provisionFlow, redisEffects } from './flows.js';

const [url, prefix, label, behaviourJson = '{}', optionsJson = '{}', versionsJson = '["1"]'] =
  process.argv.slice(2);
if (!url || !prefix || !label) {
  process.stderr.write('usage: worker-child.ts <redisUrl> <prefix> <label> [behaviour] [options]\n');
  process.exit(2);
}
const redis = url.startsWith('cluster:')
  ? new Cluster(
      url
        .slice('cluster:'.length)
        .split(',')
        .map((port) => ({ host: '127.0.0.1', port: Number(port) })),
    )
  : new Redis(url);
const log = redisEffects(redis, prefix);
const behaviour: Behaviour = {
  ...(JSON.parse(behaviourJson) as Behaviour & { delayMs?: number }),
  label,
  onHang: (task, kind) => process.stdout.write(`HANGING ${kind} ${task}\n`),
};
const delayMs = (JSON.parse(behaviourJson) as { delayMs?: number }).delayMs;
if (delayMs) behaviour.before = () => new Promise((resolve) => setTimeout(resolve, delayMs));
const store = redisStore({ redis: url.startsWith('cluster:') ? redis : url, prefix });
const worker = createWorker({
  store,
  flows: [
    ...(JSON.parse(versionsJson) as string[]).map((version) =>
      provisionFlow(log, behaviour, { version, extraTask: version === '2' }),
    ),
    chainFlow(log, behaviour),
    chaosFlow(redis, prefix, label),
  ],
  ...(JSON.parse(optionsJson) as object),
});
worker.on('dropped', (e) => process.stdout.write(`DROPPED ${e.task ?? '-'} ${e.reason}\n`));
worker.on('passed', (e) => process.stdout.write(`PASSED ${e.task} ${e.to}\n`));
worker.on('relayed', (e) => process.stdout.write(`RELAYED ${e.steps}\n`));
await worker.start();
process.stdout.write('READY\n');
process.once('SIGTERM', async () => {
  await worker.close();
  await store.close();
  await redis.quit();
  process.stdout.write('CLOSED\n');
});
