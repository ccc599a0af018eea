/**
 * Before/after engine cost of two checkouts of this repository, in one process each, for interleaving:
 *   for i in 1 2 3; do npx tsx bench/ab.ts /path/to/old-tree; npx tsx bench/ab.ts .; done
 * Prints µs per task (fan10 × 200, chain10 and rand100 one at a time, memory store; fan10 × 200 and
 * chain10 one at a time on the Redis at 127.0.0.1:6379 under a random prefix). The old tree needs its
 * node_modules (a symlink to this one's works for trees of this session).
 */
import { performance } from 'node:perf_hooks';

const root = (await import('node:path')).resolve(process.argv[2] ?? '.');
const tw = await import(`${root}/src/index.ts`);
const { createEngine, task, linear, parallel, graph, memoryStore, redisStore } = tw;
const noop = (name: string, requires: string[] = []) =>
  task({ name, requires, provides: name, execute: async () => name, revert: async () => {} });
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
const chain10 = linear(
  'chain10',
  Array.from({ length: 10 }, (_, i) => noop(`c${i}`, i ? [`c${i - 1}`] : [])),
);
let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const rand = (n: number) =>
  graph(
    `rand${n}`,
    Array.from({ length: n }, (_, i) =>
      noop(
        `r${i}`,
        Array.from({ length: i }, (_, j) => j)
          .filter(() => rnd() < 3 / (i + 1))
          .map((j) => `r${j}`),
      ),
    ),
  );
const rand100 = rand(100);
async function measure(engine: any, flow: any, tasks: number, runs: number, inFlight: number) {
  for (let i = 0; i < 3; i++) await engine.run(flow, {});
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
  return ((performance.now() - t0) * 1000) / (runs * tasks);
}
const out: Record<string, number> = {};
const mem = createEngine({ store: memoryStore() });
out['fan10x200 mem'] = await measure(mem, fan10, 10, 1000, 200);
out['chain10x1 mem'] = await measure(mem, chain10, 10, 200, 1);
out['rand100x1 mem'] = await measure(mem, rand100, 100, 20, 1);
await mem.close();
const prefix = `ab${Math.random().toString(36).slice(2, 8)}`;
const red = createEngine({ store: redisStore({ redis: 'redis://127.0.0.1:6379', prefix }) });
out['fan10x200 redis'] = await measure(red, fan10, 10, 1000, 200);
out['chain10x1 redis'] = await measure(red, chain10, 10, 200, 1);
await red.close();
// Leave nothing behind in the shared Redis.
const { Redis } = await import('ioredis');
const admin = new Redis('redis://127.0.0.1:6379');
for (const pattern of [`{${prefix}:*`, `${prefix}:*`, `{${prefix}}*`]) {
  const keys = await admin.keys(pattern);
  if (keys.length > 0) await admin.del(...keys);
}
await admin.quit();
console.log(JSON.stringify(out));
process.exit(0);
