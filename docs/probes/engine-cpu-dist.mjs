/**
 * Engine CPU per task of any checkout's build (`dist/`, what users run), for the pure-core issue's cost
 * bound (before/after on one machine, interleaved), on the memory store or on Redis (with the Redis
 * server's CPU per task, from `INFO cpu`):
 *
 *   npx tsc -p tsconfig.build.json   # in each tree
 *   for i in 1 2 3 4 5 6 7 8; do for t in /path/to/old-tree .; do
 *     node docs/probes/engine-cpu-dist.mjs $t chain memory 3000; done; done
 *
 * Arguments: the tree; the shape, `chain` (chain10, one run at a time), `fan` (fan10, 200 in flight) or
 * `fan100` (one at a time); the store, `memory` or `redis` (RURL, default 127.0.0.1:6379, under a random
 * prefix removed at the end; use a private `redis-server --save ''` for Redis CPU figures); the number of
 * runs. Prints one JSON line: µs per task, wall and the process's CPU (and Redis's). On a shared 2-core
 * machine, pin the other processes to one CPU and this one to the other (`taskset`), and read paired
 * ratios. The flows repeat the bench's on purpose: the probe must run against old checkouts too.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { removeKeys } from './remove-keys.mjs';

const root = resolve(process.argv[2] ?? '.');
const mode = process.argv[3] ?? 'chain';
const onRedis = process.argv[4] === 'redis';
const tw = await import(`${root}/dist/src/index.js`);
const { createEngine, task, linear, parallel, memoryStore, redisStore } = tw;
const noop = (name, requires = []) =>
  task({ name, requires, provides: name, execute: async () => name, revert: async () => {} });
const fan = (name, width) =>
  linear(name, [
    noop('start'),
    parallel(
      'mid',
      Array.from({ length: width }, (_, i) => noop(`m${i}`, ['start'])),
    ),
    noop(
      'join',
      Array.from({ length: width }, (_, i) => `m${i}`),
    ),
  ]);
const shapes = {
  chain: {
    flow: linear(
      'chain10',
      Array.from({ length: 10 }, (_, i) => noop(`c${i}`, i ? [`c${i - 1}`] : [])),
    ),
    tasks: 10,
    inFlight: 1,
    runs: onRedis ? 600 : 3000,
  },
  fan: { flow: fan('fan10', 8), tasks: 10, inFlight: 200, runs: onRedis ? 2000 : 3000 },
  fan100: { flow: fan('fan100', 98), tasks: 100, inFlight: 1, runs: 200 },
};
const shape = shapes[mode];
const runs = Number(process.argv[5] ?? shape.runs);

const url = process.env.RURL ?? 'redis://127.0.0.1:6379';
const prefix = `probecpu${Math.random().toString(36).slice(2, 8)}`;
const admin = onRedis
  ? new (await import(`${root}/node_modules/ioredis/built/index.js`)).default(url)
  : undefined;
/** The Redis server's CPU so far (µs), or 0 on the memory store. */
const redisCpu = async () => {
  if (!admin) return 0;
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
};

const engine = createEngine({ store: onRedis ? redisStore({ redis: url, prefix }) : memoryStore() });
for (let i = 0; i < Math.min(200, Math.ceil(runs / 10)); i++) await engine.run(shape.flow, {});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const redis0 = await redisCpu();
let next = 0;
await Promise.all(
  Array.from({ length: shape.inFlight }, async () => {
    while (next < runs) {
      next++;
      await engine.run(shape.flow, {});
    }
  }),
);
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
const redis = (await redisCpu()) - redis0;
await engine.close();
const tasks = runs * shape.tasks;
const perTask = (us) => +(us / tasks).toFixed(1);
console.log(
  JSON.stringify({
    root: root.split('/').pop(),
    mode,
    store: onRedis ? 'redis' : 'memory',
    wall: perTask(wall * 1000),
    cpu: perTask(cpu.user + cpu.system),
    ...(admin ? { redis: perTask(redis) } : {}),
  }),
);
if (admin) {
  await removeKeys(admin, prefix);
  await admin.quit();
}
process.exit(0);
