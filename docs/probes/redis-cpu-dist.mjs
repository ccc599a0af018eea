/**
 * The same on Redis, with the Redis server's CPU per task (`INFO cpu`): chain10 one at a time (`chain`)
 * or fan10 × 200 in flight (`fan`), against RURL (default the Redis at 127.0.0.1:6379; use a private
 * `redis-server --port 6391 --save ''` for Redis CPU figures), under a random prefix removed at the end:
 *
 *   RURL=redis://127.0.0.1:6391 node docs/probes/redis-cpu-dist.mjs <tree> chain|fan
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = resolve(process.argv[2]);
const mode = process.argv[3] ?? 'chain';
const tw = await import(`${root}/dist/src/index.js`);
const { default: Redis } = await import(`${root}/node_modules/ioredis/built/index.js`);
const { createEngine, task, linear, parallel, redisStore } = tw;
const noop = (name, requires = []) =>
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
const prefix = `rcpu${Math.random().toString(36).slice(2, 8)}`;
const admin = new Redis(process.env.RURL ?? 'redis://127.0.0.1:6379');
const rcpu = async () => {
  const i = await admin.info('cpu');
  const u = /used_cpu_user:([\d.]+)/.exec(i)[1],
    s = /used_cpu_sys:([\d.]+)/.exec(i)[1];
  return (Number(u) + Number(s)) * 1e6;
};
const e = createEngine({
  store: redisStore({ redis: process.env.RURL ?? 'redis://127.0.0.1:6379', prefix }),
});
const [flow, runs, inFlight] = mode === 'chain' ? [chain10, 600, 1] : [fan10, 2000, 200];
for (let i = 0; i < 50; i++) await e.run(flow, {});
const c0 = process.cpuUsage();
const t0 = performance.now();
const r0 = await rcpu();
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < runs) {
      next++;
      await e.run(flow, {});
    }
  }),
);
const c = process.cpuUsage(c0);
const r1 = await rcpu();
const tasks = runs * 10;
console.log(
  JSON.stringify({
    root: root.split('/').pop(),
    mode,
    wall: +(((performance.now() - t0) * 1000) / tasks).toFixed(1),
    cpu: +((c.user + c.system) / tasks).toFixed(1),
    redis: +((r1 - r0) / tasks).toFixed(1),
  }),
);
await e.close();
let cursor = '0';
do {
  const [n, keys] = await admin.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
  cursor = n;
  if (keys.length) await admin.unlink(...keys);
} while (cursor !== '0');
await admin.quit();
process.exit(0);
