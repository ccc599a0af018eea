/**
 * Redis's cost per task on the job path, for any checkout's build (`dist/`): fan10 jobs posted to a job
 * board and run by one conductor (200 in flight) in this process, as the scale-out bench's taskweave
 * side does, against a Redis given by URL (use a private `redis-server --save ''`: the figures are the
 * whole server's). Prints one JSON line: the server's CPU per task (`INFO cpu`), this process's, tasks/s,
 * and per job each command's calls and µs from `INFO commandstats` (commands run inside scripts are
 * counted under their own names too, and inside `evalsha`'s µs).
 *
 *   npx tsc -p tsconfig.build.json   # in each tree
 *   redis-server --port 6391 --save '' &
 *   node docs/probes/job-redis-cpu.mjs <tree> redis://127.0.0.1:6391 [jobs=1000] [warm-up jobs=300]
 *
 * On a shared machine the server's CPU time swings with the load (±15 % between runs at a load average
 * of 6): read medians of interleaved runs, or record the command stream once (`redis-cli monitor`
 * while this runs) and count instructions with docs/probes/redis-replay.mjs. The flow repeats the
 * bench's on purpose: the probe must run against old checkouts too.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { removeKeys } from './remove-keys.mjs';

const root = resolve(process.argv[2] ?? '.');
const url = process.argv[3] ?? 'redis://127.0.0.1:6379';
const jobs = Number(process.argv[4] ?? 1000);
const warm = Number(process.argv[5] ?? 300);
const tw = await import(`${root}/dist/src/index.js`);
const Redis = (await import(`${root}/node_modules/ioredis/built/index.js`)).default;
const { createConductor, createEngine, linear, parallel, redisJobBoard, redisStore, task } = tw;

const noop = (name, requires = []) =>
  task({ name, requires, provides: name, execute: async () => name, revert: async () => {} });
const mids = Array.from({ length: 8 }, (_, i) => `m${i}`);
const fan10 = linear('fan10', [
  noop('start'),
  parallel(
    'mid',
    mids.map((m) => noop(m, ['start'])),
  ),
  noop('join', mids),
]);

const prefix = `probejob${Math.random().toString(36).slice(2, 8)}`;
const admin = new Redis(url);
// The poster's board and the conductor's, as in the bench (two clients: posting does not queue
// behind the conductor's commands).
const poster = redisJobBoard({ redis: url, prefix });
const board = redisJobBoard({ redis: url, prefix });
const store = redisStore({ redis: url, prefix });
const engine = createEngine({ store, flows: [fan10] });
const conductor = createConductor({ board, engine, concurrency: 200 });
await conductor.start();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Post n jobs at once and wait until they are all complete (polling, as the bench does). */
async function feed(n) {
  const base = (await poster.counts()).COMPLETE;
  await Promise.all(Array.from({ length: n }, () => poster.post({ flow: 'fan10' })));
  while ((await poster.counts()).COMPLETE < base + n) await sleep(20);
}
const redisCpu = async () => {
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
};
const commandStats = async () => {
  const stats = {};
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
    stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
};

if (warm > 0) await feed(warm);
const redis0 = await redisCpu();
const stats0 = await commandStats();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await feed(jobs);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const redis = (await redisCpu()) - redis0;
const stats1 = await commandStats();
const tasks = jobs * 10;
const perJob = {};
for (const [name, after] of Object.entries(stats1)) {
  const before = stats0[name] ?? { calls: 0, usec: 0 };
  if (after.calls > before.calls && name !== 'info') {
    perJob[name] = {
      calls: +((after.calls - before.calls) / jobs).toFixed(2),
      usec: +((after.usec - before.usec) / jobs).toFixed(1),
    };
  }
}
console.log(
  JSON.stringify({
    root: root.split('/').pop(),
    redisUsPerTask: +(redis / tasks).toFixed(2),
    processUsPerTask: +((cpu.user + cpu.system) / tasks).toFixed(1),
    tasksPerSec: Math.round(tasks / (wall / 1000)),
    perJob,
  }),
);

await conductor.stop({ drain: true });
await engine.close();
await store.close();
await board.close();
await poster.close();
await removeKeys(admin, prefix);
await admin.quit();
process.exit(0);
