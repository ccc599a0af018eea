import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../test/support/redis-server.js';
import { openBullmq } from './bullmq.js';
import { openDbos, PG_URL } from './dbos.js';
import { distributedBench, distributedLines } from './distributed.js';
import { engineBench } from './engine.js';
import { floorHeapPerRun } from './floor.js';
import { jobPath } from './jobpath.js';
import { profile } from './profile.js';
import { openTaskweave, REDIS_URL, type Shape } from './redis.js';
import { distributedSection, type Peers, type Results, report, type Side } from './report.js';
import { scaleOut } from './scaleout.js';

/**
 * `npm run bench`: engine overhead against the XState floor (memory store); taskweave on Redis against
 * BullMQ FlowProducer (same Redis) and DBOS Transact (PostgreSQL), in alternating repetitions; the
 * fsync-on-both row; the job path; scale-out CPU per task; profiles, flow sizes, heap. Prints the
 * targets and writes bench/RESULTS.md (`bench/report.ts`). Not part of `npm test`.
 *
 * The memory figures need `global.gc`: without `--expose-gc`, this file re-runs itself in a child
 * `node --expose-gc --import tsx bench/index.ts`. `--no-rand1000` skips the 1,000-task random DAG;
 * `--quick` (development) runs fewer and shorter repetitions and writes bench/RESULTS.quick.md instead.
 * `--only=distributed` runs only the distributed-execution rows (`bench/distributed.ts`) and prints their
 * section of RESULTS.md without writing any file.
 */
const self = fileURLToPath(import.meta.url);
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', import.meta.resolve('tsx'), self, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}

const quick = process.argv.includes('--quick');
const withRand1000 = !quick && !process.argv.includes('--no-rand1000');
const t0 = Date.now();
const log = (message: string) =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${message}`);
const distributedOptions = { runs: quick ? 100 : 200, reps: 3, log };

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined) {
  if (only !== 'distributed') {
    console.error(
      `Expected --only=distributed (the one group of rows that runs on its own), got --only=${only}`,
    );
    process.exit(2);
  }
  log('distributed execution: 1, 2 and 4 worker processes on a bench-owned redis-server…');
  const figures = await distributedBench(distributedOptions);
  for (const line of distributedLines(figures)) console.log(line);
  console.log(`\n${distributedSection(figures)}`);
  log('done (--only: no file written)');
  process.exit(0);
}

// ---------------------------------------------------------------- environment
const version = (pkg: string) =>
  (
    JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
const admin = new Redis(REDIS_URL);
const info = async (redis: Redis, section: string) => {
  const text = await redis.info(section);
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  ) as Record<string, string>;
};
const redisCpuMs = async () => {
  const cpu = await info(admin, 'cpu');
  return (Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys)) * 1000;
};
const persistence = await info(admin, 'persistence');
const env: Results['env'] = {
  date: new Date().toString(),
  machine: `${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
  cpus: os.availableParallelism(),
  node: process.version,
  xstate: version('xstate'),
  ioredis: version('ioredis'),
  bullmq: version('bullmq'),
  dbos: version('@dbos-inc/dbos-sdk'),
  redis: (await info(admin, 'server')).redis_version ?? '?',
  redisUrl: REDIS_URL.replace(/\/\/[^@]*@/, '//***@'),
  redisAof: persistence.aof_enabled === '1',
  pgUrl: PG_URL.replace(/\/\/[^@]*@/, '//***@'),
  quick,
  loadBefore: os.loadavg(),
  loadAfter: [],
  seconds: 0,
};

// ---------------------------------------------------------------- engine overhead (memory store) vs floor
log('engine overhead on the memory store against the XState floor (bench/engine.ts)…');
const engineRows = await engineBench({ quick, withRand1000, log });

// ---------------------------------------------------------------- peers, interleaved
/**
 * One repetition of every side in turn (taskweave, BullMQ, DBOS, taskweave, …) so background load on
 * the machine hits them alike; each side's figure is the median of its repetitions.
 */
async function interleaved(
  shape: Shape,
  inFlight: number,
  reps: number,
  sides: { name: string; runs: number; warmup: number; batch: typeof tw.batch; redisCpu?: boolean }[],
): Promise<Record<string, Side>> {
  for (const s of sides) await s.batch(shape, s.warmup, Math.min(inFlight, s.warmup));
  const out: Record<string, Side> = {};
  for (const s of sides) out[s.name] = { runs: s.runs, samples: [], redisCpuMs: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const s of sides) {
      const cpu = s.redisCpu ? await redisCpuMs() : 0;
      const ms = await s.batch(shape, s.runs, inFlight);
      out[s.name]!.samples.push((s.runs * 10) / (ms / 1000));
      if (s.redisCpu) out[s.name]!.redisCpuMs.push((((await redisCpuMs()) - cpu) / (s.runs * 10)) * 1000);
      if (s.name === 'taskweave') out[s.name]!.counts = { ...tw.counts };
    }
  }
  return out;
}

log('taskweave on Redis, BullMQ FlowProducer and DBOS Transact, interleaved…');
const tw = await openTaskweave();
const bull = await openBullmq(100);
const dbos = await openDbos(env.dbos);
let peers: Peers;
let fsync: Peers['fan'];
let fsyncChain: Peers['fan'];
const fanTree: number[] = [];
let profiles: Results['profiles'];
let sizes: Results['sizes'];
let jobs: Results['jobs'];
let scale: Results['scale'];
let distributed: Results['distributed'];
let floorHeapKB: number | undefined;
try {
  const reps = quick ? 3 : 5;
  const sides = (twRuns: number, bullRuns: number, dbosRuns: number, warmup: number) => [
    { name: 'taskweave', runs: twRuns, warmup, batch: tw.batch, redisCpu: true },
    {
      name: 'BullMQ',
      runs: bullRuns,
      warmup: Math.min(warmup, bullRuns * 2),
      batch: bull.batch,
      redisCpu: true,
    },
    { name: 'DBOS', runs: dbosRuns, warmup: Math.min(warmup, dbosRuns), batch: dbos.batch },
  ];
  const fan = await interleaved('fan10', 200, quick ? 3 : 7, sides(200, 200, 200, 400));
  log(
    `  fan10 × 200: ${Object.entries(fan)
      .map(([k, v]) => `${k} ${v.samples.map(Math.round).join('/')}`)
      .join(', ')}`,
  );
  for (let rep = 0; rep < 3; rep++) fanTree.push(2000 / ((await bull.batch('fan10tree', 200, 200)) / 1000));
  const chainConcurrent = await interleaved('chain10', 200, reps, sides(200, 200, 200, 400));
  log('  chain10 × 200 done');
  const chainSerial = await interleaved('chain10', 1, reps, sides(200, 50, quick ? 10 : 30, 100));
  log('  chain10 one at a time done');
  peers = { fan, chainConcurrent, chainSerial };
  await bull.close();

  // ---------------------------------------------------------------- fsync on both sides
  log('fsync on both: taskweave on a bench-owned redis-server (appendfsync always) against DBOS…');
  const owned = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  const twSync = await openTaskweave(owned.url);
  try {
    const fsyncSides = (twRuns: number, dbosRuns: number, warmup: number) => [
      { name: 'taskweave', runs: twRuns, warmup, batch: twSync.batch },
      { name: 'DBOS', runs: dbosRuns, warmup: Math.min(warmup, dbosRuns), batch: dbos.batch },
    ];
    fsync = await interleaved('fan10', 200, reps, fsyncSides(200, 200, 200));
    fsyncChain = await interleaved('chain10', 1, reps, fsyncSides(100, quick ? 10 : 30, 50));
  } finally {
    await twSync.close();
    await owned.stop();
  }
  await dbos.close();

  // ---------------------------------------------------------------- job path, scale-out
  log('job path (post → conductor → complete) against engine.run…');
  jobs = await jobPath(REDIS_URL, { runs: quick ? 200 : 400, reps });
  log('scale-out: CPU per task with 1, 2 and 4 engine processes on a bench-owned redis-server…');
  scale = (await scaleOut({ jobs: quick ? 200 : 600, reps: 3, log })).rows;
  log('distributed execution: 1, 2 and 4 worker processes on a bench-owned redis-server…');
  distributed = await distributedBench(distributedOptions);

  log('profiles (chain10 one at a time, fan10 × 200)…');
  profiles = {
    chain10: await profile(() => tw.batch('chain10', 300, 1)),
    fan10: await profile(() => tw.batch('fan10', 400, 200)),
  };
  log(`per-task cost by flow size${withRand1000 ? ' (rand1000 takes a while)' : ''}, memory per 1,000 runs…`);
  sizes = await tw.sizes({ withRand1000 });
  floorHeapKB = await floorHeapPerRun(1000);
} finally {
  await bull.close();
  await dbos.close();
  await tw.close();
}
await admin.quit();
env.loadAfter = os.loadavg();
env.seconds = (Date.now() - t0) / 1000;

const results: Results = {
  env,
  engineRows,
  peers,
  fsync: { fan: fsync, chainSerial: fsyncChain, pg: dbos.settings },
  fanTree,
  bullConcurrency: bull.concurrency,
  profiles,
  sizes,
  floorHeapKB,
  jobs,
  scale,
  distributed,
};
const { md, targets } = report(results);
// `--quick` is for development: its figures go to a file git ignores, RESULTS.md keeps the full run's.
const resultsFile = quick ? 'RESULTS.quick.md' : 'RESULTS.md';
writeFileSync(new URL(`./${resultsFile}`, import.meta.url), md);
console.log();
console.table(
  targets.map((t) => ({ target: t.target, figure: t.figure.replaceAll('**', ''), met: t.ok ? '✓' : '✗' })),
);
log(`wrote bench/${resultsFile}`);
