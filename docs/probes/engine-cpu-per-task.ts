/**
 * Engine cost per task of any checkout, as CPU time of the engine's process (and wall time), for
 * before/after comparisons on a shared machine, where wall time (bench/ab.ts) swings 2-5x with the
 * load while CPU time moves ~10 %:
 *
 *   for i in 1 2 3 4 5; do for t in /path/to/old-tree .; do
 *     nice -n 10 npx tsx docs/probes/engine-cpu-per-task.ts $t; done; done
 *
 * Rows: chain10 one run at a time on the Redis at 127.0.0.1:6379 (a random prefix, removed at the
 * end), chain10 one at a time and fan10 x 200 in flight on the memory store. Prints one JSON line of
 * µs per task. The old tree needs its node_modules.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { removeKeys } from './remove-keys.mjs';

const root = resolve(process.argv[2] ?? '.');
const tw = await import(`${root}/src/index.ts`);
const { createEngine, task, linear, parallel, redisStore, memoryStore } = tw;
const REDIS = 'redis://127.0.0.1:6379';

const noop = (name: string, requires: string[] = []) =>
  task({ name, requires, provides: name, execute: async () => name, revert: async () => {} });
const chain10 = linear(
  'chain10',
  Array.from({ length: 10 }, (_, i) => noop(`c${i}`, i ? [`c${i - 1}`] : [])),
);
const fan10 = linear('fan10', [
  noop('start'),
  parallel(
    'mid',
    Array.from({ length: 8 }, (_, i) => noop(`m${i}`, ['start'])),
  ),
  noop(
    'join',
    Array.from({ length: 8 }, (_, i) => `m${i}`),
  ),
]);

/** µs per task (wall and the process's CPU) of `runs` runs of a 10-task flow, `inFlight` at a time. */
async function measure(engine: any, flow: unknown, runs: number, inFlight: number) {
  for (let i = 0; i < 20; i++) await engine.run(flow, {});
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < runs) {
        next++;
        await engine.run(flow, {});
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const tasks = runs * 10;
  return { wall: ((performance.now() - t0) * 1000) / tasks, cpu: (cpu.user + cpu.system) / tasks };
}

const prefix = `probecpu${Math.random().toString(36).slice(2, 8)}`;
const onRedis = createEngine({ store: redisStore({ redis: REDIS, prefix }) });
const redisChain = await measure(onRedis, chain10, 300, 1);
await onRedis.close();
const inMemory = createEngine({ store: memoryStore() });
const memChain = await measure(inMemory, chain10, 300, 1);
const memFan = await measure(inMemory, fan10, 1000, 200);
await inMemory.close();

// Leave nothing behind in the shared Redis (run keys, the catalog, the status index).
const admin = new Redis(REDIS);
await removeKeys(admin, prefix);
await admin.quit();
console.log(JSON.stringify({ root, redisChain, memChain, memFan }));
process.exit(0);
