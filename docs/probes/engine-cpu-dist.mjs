/**
 * Engine CPU per task of any checkout's build (`dist/`, what users run), memory store, for the pure-core
 * issue's cost bound (before/after on one machine, interleaved):
 *
 *   npx tsc -p tsconfig.build.json   # in each tree
 *   for i in 1 2 3 4 5 6 7 8; do for t in /path/to/old-tree .; do
 *     node docs/probes/engine-cpu-dist.mjs $t 3000 chain; done; done
 *
 * Modes: `chain` (chain10, one run at a time), `fan` (fan10, 200 in flight), `fan100` (one at a time).
 * Prints one JSON line: µs per task, wall and the process's CPU. On a shared 2-core machine, pin the
 * other processes to one CPU and this one to the other (`taskset`) and read paired ratios.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = resolve(process.argv[2] ?? '.');
const runs = Number(process.argv[3] ?? 3000);
const tw = await import(`${root}/dist/src/index.js`);
const { createEngine, task, linear, parallel, memoryStore } = tw;
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
async function measure(engine, flow, runs, inFlight) {
  for (let i = 0; i < (flow === fan100 ? 20 : 200); i++) await engine.run(flow, {});
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
  const tasks = runs * (flow === fan100 ? 100 : 10);
  return {
    wall: +(((performance.now() - t0) * 1000) / tasks).toFixed(1),
    cpu: +((cpu.user + cpu.system) / tasks).toFixed(1),
  };
}
const mode = process.argv[4] ?? 'chain';
const fan100 = linear('fan100', [
  noop('start'),
  parallel(
    'mid',
    Array.from({ length: 98 }, (_, i) => noop(`m${i}`, ['start'])),
  ),
  noop(
    'join',
    Array.from({ length: 98 }, (_, i) => `m${i}`),
  ),
]);
const e = createEngine({ store: memoryStore() });
const r =
  mode === 'chain'
    ? await measure(e, chain10, runs, 1)
    : mode === 'fan100'
      ? await measure(e, fan100, runs, 1)
      : await measure(e, fan10, runs, 200);
await e.close();
console.log(JSON.stringify({ root: root.split('/').pop(), mode, ...r }));
process.exit(0);
