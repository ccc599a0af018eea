import type { DbosBench } from './dbos.js';
import type { DistributedFigures } from './distributed.js';
import type { EngineBenchRow } from './engine.js';
import type { JobPathFigures } from './jobpath.js';
import type { ProfileSummary } from './profile.js';
import { type RedisBench, type Throughput, throughputRow } from './redis.js';
import type { ScaleRow } from './scaleout.js';
import { median } from './stats.js';

/** bench/RESULTS.md from one run's figures: targets first, then every row with its durability. */
export interface Side {
  runs: number;
  /** tasks/s per repetition. */
  samples: number[];
  /** Redis CPU ms per 1,000 tasks per repetition (sides on the shared Redis). */
  redisCpuMs: number[];
  counts?: { saves: number; bytes: number };
}

export interface Peers {
  fan: Record<string, Side>;
  chainConcurrent: Record<string, Side>;
  chainSerial: Record<string, Side>;
}

export interface Results {
  env: {
    date: string;
    machine: string;
    cpus: number;
    node: string;
    xstate: string;
    ioredis: string;
    bullmq: string;
    dbos: string;
    redis: string;
    redisUrl: string;
    redisAof: boolean;
    pgUrl: string;
    quick: boolean;
    loadBefore: number[];
    loadAfter: number[];
    seconds: number;
  };
  engineRows: EngineBenchRow[];
  peers: Peers;
  fsync: { fan: Record<string, Side>; chainSerial: Record<string, Side>; pg: DbosBench['settings'] };
  fanTree: number[];
  bullConcurrency: number;
  profiles: { chain10: ProfileSummary; fan10: ProfileSummary };
  sizes: Omit<RedisBench, 'fan10Concurrent' | 'chain10Concurrent' | 'chain10Serial'>;
  floorHeapKB: number | undefined;
  jobs: JobPathFigures;
  scale: ScaleRow[];
  distributed: DistributedFigures;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const lo = (xs: readonly number[]) => Math.min(...xs);
const hi = (xs: readonly number[]) => Math.max(...xs);
const spread = (xs: readonly number[]) => `${n0(lo(xs))}–${n0(hi(xs))}`;
const spread1 = (xs: readonly number[]) => `${f1(lo(xs))}–${f1(hi(xs))}`;
const ratioCell = (xs: readonly number[]) => `**${f2(median(xs))}×** (${f2(lo(xs))}–${f2(hi(xs))})`;
/** Ratios of two sides' samples, repetition by repetition (each pair ran back to back). */
const perRep = (a: readonly number[], b: readonly number[]) => a.map((x, i) => x / b[i]!);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function report(r: Results): {
  md: string;
  targets: { target: string; figure: string; ok: boolean }[];
} {
  const { env, engineRows, peers, fsync, sizes, jobs, profiles } = r;
  const engineRow = (shape: string, inFlight: number) =>
    engineRows.find((row) => row.shape === shape && row.inFlight === inFlight);
  const tps = (s: Side | undefined) => (s ? median(s.samples) : Number.NaN);
  const tw = (p: Record<string, Side>) => p.taskweave!;

  // ---------------------------------------------------------------- targets
  const targets: { target: string; figure: string; ok: boolean }[] = [];
  for (const [shape, inFlight] of [
    ['fan10', 1],
    ['fan10', 200],
    ['chain10', 1],
  ] as const) {
    const row = engineRow(shape, inFlight);
    if (!row) continue;
    targets.push({
      target: `engine overhead ≤ 1.3× the XState floor: ${shape}, ${inFlight} in flight (memory store)`,
      figure: `${f1(row.engine.usPerTask)} / ${f1(row.floor.usPerTask)} µs = ${ratioCell(row.ratios)}`,
      ok: median(row.ratios) <= 1.3,
    });
  }
  const fan10One = engineRow('fan10', 1);
  for (const shape of ['fan100', 'rand100', 'rand1000 (floor: chain1000)']) {
    const row = engineRow(shape, 1);
    if (!row || !fan10One) continue;
    const ratio = row.engine.usPerTask / fan10One.engine.usPerTask;
    targets.push({
      target: `per-task cost of ${shape.split(' ')[0]} ≤ 1.5× fan10's (memory store, one run at a time)`,
      figure: `${f1(row.engine.usPerTask)} / ${f1(fan10One.engine.usPerTask)} µs = **${f2(ratio)}×**`,
      ok: ratio <= 1.5,
    });
  }
  if (sizes.rand1000Serial) {
    const ratio = sizes.rand1000Serial.usPerTask / sizes.rand10Serial.usPerTask;
    targets.push({
      target: 'per-task cost of rand1000 ≤ 1.5× rand10 (Redis, one at a time)',
      figure: `${f1(sizes.rand1000Serial.usPerTask)} / ${f1(sizes.rand10Serial.usPerTask)} µs = **${f2(ratio)}×**`,
      ok: ratio <= 1.5,
    });
  }
  const fanBull = perRep(tw(peers.fan).samples, peers.fan.BullMQ!.samples);
  const fanDbos = perRep(tw(peers.fan).samples, peers.fan.DBOS!.samples);
  const syncDbos = perRep(tw(fsync.fan).samples, fsync.fan.DBOS!.samples);
  targets.push(
    {
      target: 'fan10 × 200 in flight on Redis ≥ 2.5× BullMQ FlowProducer',
      figure: `${n0(tps(tw(peers.fan)))} vs ${n0(tps(peers.fan.BullMQ))} tasks/s = ${ratioCell(fanBull)}`,
      ok: median(fanBull) >= 2.5,
    },
    {
      target: 'fan10 × 200 in flight on Redis ≥ 8× DBOS Transact',
      figure: `${n0(tps(tw(peers.fan)))} vs ${n0(tps(peers.fan.DBOS))} tasks/s = ${ratioCell(fanDbos)}`,
      ok: median(fanDbos) >= 8,
    },
    {
      target:
        'fsync on both (Redis appendfsync always vs PostgreSQL synchronous_commit on), fan10 × 200 ≥ 5× DBOS',
      figure: `${n0(tps(tw(fsync.fan)))} vs ${n0(tps(fsync.fan.DBOS))} tasks/s = ${ratioCell(syncDbos)}`,
      ok: median(syncDbos) >= 5,
    },
    {
      target: 'one chain10 at a time ≥ 4,000 persisted tasks/s',
      figure: `**${n0(tps(tw(peers.chainSerial)))}** tasks/s (${spread(tw(peers.chainSerial).samples)})`,
      ok: tps(tw(peers.chainSerial)) >= 4000,
    },
  );
  const scaleOf = (system: string, k: number) =>
    r.scale.find((s) => s.system === system && s.processes === k);
  const tw1 = scaleOf('taskweave', 1);
  for (const k of [2, 4]) {
    const row = scaleOf('taskweave', k);
    if (!row || !tw1) continue;
    const ratio = median(row.totalUs) / median(tw1.totalUs);
    targets.push({
      target: `CPU per task with ${k} conductor processes ≤ 1.15× with 1 (all processes + Redis)`,
      figure: `${f1(median(row.totalUs))} / ${f1(median(tw1.totalUs))} µs = **${f2(ratio)}×**`,
      ok: ratio <= 1.15,
    });
  }
  const redisUs = (system: string) =>
    median(r.scale.filter((s) => s.system === system).flatMap((s) => s.redisUs));
  const capacity = (system: string) => 1e6 / redisUs(system);
  if (r.scale.length > 0)
    targets.push({
      target: "tasks/s one Redis node can carry ≥ 5× BullMQ's",
      figure: `${n0(capacity('taskweave'))} vs ${n0(capacity('bullmq'))} tasks/s (${f1(redisUs('taskweave'))} vs ${f1(redisUs('bullmq'))} µs Redis CPU/task) = **${f2(capacity('taskweave') / capacity('bullmq'))}×**`,
      ok: capacity('taskweave') / capacity('bullmq') >= 5,
    });
  const jobCost = perRep(jobs.direct, jobs.jobs);
  targets.push({
    target: 'job path (post → conductor → complete) ≤ 1.3× a direct engine.run per task',
    figure: `${n0(median(jobs.jobs))} vs ${n0(median(jobs.direct))} tasks/s = ${ratioCell(jobCost)} the cost`,
    ok: median(jobCost) <= 1.3,
  });
  if (sizes.memory)
    targets.push({
      target: '≤ 20 KB heap per in-flight fan10 run',
      figure: `**${f1(sizes.memory.heapPerRunKB)} KB** (Redis store, ${n0(sizes.memory.runs)} runs${r.floorHeapKB !== undefined ? `; the XState floor: ${f1(r.floorHeapKB)} KB` : ''})`,
      ok: sizes.memory.heapPerRunKB <= 20,
    });
  const chainSize = sizes.chain1000Serial.usPerTask / sizes.chain10SerialAgain.usPerTask;
  targets.push({
    target: "(kept from round one) chain1000's per-task cost ≤ 1.5× chain10's (Redis, one at a time)",
    figure: `${f1(sizes.chain1000Serial.usPerTask)} / ${f1(sizes.chain10SerialAgain.usPerTask)} µs = **${f2(chainSize)}×**`,
    ok: chainSize <= 1.5,
  });

  // ---------------------------------------------------------------- tables
  const floorUs = (shape: string, inFlight: number) => engineRow(shape, inFlight)?.floor.usPerTask;
  const peerRow = (label: string, shape: string, inFlight: number, p: Record<string, Side>) => {
    const t = tw(p);
    const fl = floorUs(shape, inFlight);
    return `| ${label} | **${n0(tps(t))}** (${spread(t.samples)}) | ${n0(tps(p.BullMQ))} (${spread(p.BullMQ!.samples)}) | ${n0(tps(p.DBOS))} (${spread(p.DBOS!.samples)}) | ${ratioCell(perRep(t.samples, p.BullMQ!.samples))} | ${ratioCell(perRep(t.samples, p.DBOS!.samples))} | ${fl ? `${f2(1e6 / tps(t) / fl)}×` : '—'} | ${f1(median(t.redisCpuMs))} / ${f1(median(p.BullMQ!.redisCpuMs))} |`;
  };
  const syncRow = (label: string, p: Record<string, Side>) =>
    `| ${label} | **${n0(tps(tw(p)))}** (${spread(tw(p).samples)}) | ${n0(tps(p.DBOS))} (${spread(p.DBOS!.samples)}) | ${ratioCell(perRep(tw(p).samples, p.DBOS!.samples))} |`;
  const twThroughput = (label: string, inFlight: number, s: Side): Throughput =>
    throughputRow(label, 10, s.runs, inFlight, s.samples, s.counts ?? { saves: 0, bytes: 0 });
  const twRow = (t: Throughput, extra = '') =>
    `| ${t.name}${extra} | ${t.runs} × ${t.tasks} | ${t.inFlight} | **${n0(t.tasksPerSec)}** | ${spread(t.samples)} | ${f1(t.usPerTask)} | ${f2(t.writesPerTask)} | ${n0(t.bytesPerWrite)} |`;
  const stat = (s: { usPerTask: number; samples: number[] }) => `${f1(s.usPerTask)} (${spread1(s.samples)})`;
  const scaleRows = r.scale.map((s) => {
    const one = scaleOf(s.system, 1);
    const calls =
      s.system === 'taskweave' ? `${f2(median(s.emptyClaimsPerJob))} / ${f2(median(s.waitsPerJob))}` : '—';
    return `| ${s.system} | ${s.processes} | ${n0(median(s.tasksPerSec))} (${spread(s.tasksPerSec)}) | **${f1(median(s.totalUs))}** (${spread1(s.totalUs)}) | ${f1(median(s.enginesUs))} | ${f1(median(s.posterUs))} | ${f1(median(s.redisUs))} | ${one ? `${f2(median(s.totalUs) / median(one.totalUs))}×` : '—'} | ${calls} |`;
  });

  // ---------------------------------------------------------------- notes
  const share = (p: ProfileSummary, prefix: string) =>
    p.areas.filter((a) => a.area.startsWith(prefix)).reduce((sum, a) => sum + a.share, 0);
  const overloaded = Math.max(env.loadBefore[0] ?? 0, env.loadAfter[0] ?? 0) > env.cpus;
  const memChain = engineRow('chain10', 1);
  const memFan = engineRow('fan10', 200);
  const chainSerialTw = twThroughput('chain10, one at a time', 1, tw(peers.chainSerial));
  const fanTw = twThroughput('fan10 × 200 in flight', 200, tw(peers.fan));
  const notes = [
    overloaded
      ? `- **The machine was shared**: the 1-minute load average (${f2(env.loadBefore[0] ?? 0)} at start, ${f2(env.loadAfter[0] ?? 0)} at end) exceeded its ${env.cpus} CPUs, so other processes competed with this one, with redis-server and with PostgreSQL; absolute figures are low and noisy, the ranges show how much. The sides of every comparison alternate repetition by repetition, so the ratios are what to read.`
      : `- The machine was quiet enough: load average ${f2(env.loadBefore[0] ?? 0)} at start on ${env.cpus} CPUs.`,
    memChain
      ? `- **Persistence cost, chain10 one at a time**: ${f1(chainSerialTw.usPerTask)} µs/task on Redis against ${f1(memChain.engine.usPerTask)} µs/task on the memory store (and ${f1(memChain.floor.usPerTask)} µs for the XState floor): each task's acknowledged write (${f2(chainSerialTw.writesPerTask)} writes/task, ${n0(chainSerialTw.bytesPerWrite)} bytes each) is a round trip the next task waits for. 4,000 tasks/s means 250 µs/task.`
      : '',
    memFan
      ? `- **fan10 × 200 in flight is CPU-bound**: ${f1(fanTw.usPerTask)} µs/task on Redis against ${f1(memFan.engine.usPerTask)} µs/task of engine alone (memory store) and ${f1(memFan.floor.usPerTask)} µs/task for the XState floor; idle is ${pct(share(profiles.fan10, 'idle'))} of the profile, xstate ${pct(share(profiles.fan10, 'xstate'))}, GC ${pct(share(profiles.fan10, 'garbage'))}.`
      : '',
    `- **Flow size**: a chain's writes stay the same size as the flow grows (${n0(sizes.chain10SerialAgain.bytesPerWrite)} bytes/write at 10 tasks, ${n0(sizes.chain1000Serial.bytesPerWrite)} at 1,000). ${sizes.rand1000Serial ? `rand1000: ${f1(sizes.rand1000Serial.usPerTask)} µs/task on Redis, ${n0(sizes.rand1000Serial.bytesPerWrite)} bytes/write, ${f2(sizes.rand1000Serial.writesPerTask)} writes/task (many tasks' changes coalesce into each write).` : ''}`,
  ].filter(Boolean);

  const profileTable = (p: ProfileSummary, tasks: number) => {
    const us = (ms: number) => f1((ms * 1000) / tasks);
    return [
      `| area | ms | µs/task | share |`,
      `|---|---:|---:|---:|`,
      ...p.areas.map((a) => `| ${a.area} | ${f1(a.ms)} | ${us(a.ms)} | ${(a.share * 100).toFixed(1)}% |`),
      '',
      `| hottest functions (self time) | ms | µs/task | share |`,
      `|---|---:|---:|---:|`,
      ...p.functions.map(
        (f) => `| \`${f.fn}\` | ${f1(f.ms)} | ${us(f.ms)} | ${(f.share * 100).toFixed(1)}% |`,
      ),
      '',
      `| taskweave functions (inclusive time) | ms | µs/task | share |`,
      `|---|---:|---:|---:|`,
      ...p.own.map((f) => `| \`${f.fn}\` | ${f1(f.ms)} | ${us(f.ms)} | ${(f.share * 100).toFixed(1)}% |`),
    ].join('\n');
  };
  const areas = (p: ProfileSummary) =>
    `idle ${pct(share(p, 'idle'))}, xstate ${pct(share(p, 'xstate'))}, ioredis ${pct(share(p, 'ioredis'))}, taskweave's own code ${pct(share(p, 'taskweave'))}, GC ${pct(share(p, 'garbage'))}, node internals ${pct(share(p, 'node internals'))}`;
  const mem = sizes.memory;
  const pg = fsync.pg;

  const md = `# Benchmarks

Written by \`npm run bench\` (\`bench/index.ts\`, report in \`bench/report.ts\`); every figure below comes from the one
run described here.${env.quick ? ' **This is a `--quick` run (fewer, shorter repetitions): for development only.**' : ''}

- **Date**: ${env.date}
- **Machine**: ${env.machine}; load average ${env.loadBefore.map(f2).join(' / ')} at start, ${env.loadAfter.map(f2).join(' / ')} at end (1/5/15 min)
- **Versions**: Node ${env.node}, xstate ${env.xstate}, ioredis ${env.ioredis}, bullmq ${env.bullmq}, @dbos-inc/dbos-sdk ${env.dbos}, redis-server ${env.redis}, PostgreSQL ${pg.version}
- **Duration**: ${env.seconds.toFixed(0)} s
- **Figures**: medians of interleaved repetitions (the sides of a comparison alternate, repetition by repetition), range in parentheses; a ratio is the median of the per-repetition ratios, its range alongside.

## Targets (issue 13)

| target | figure | |
|---|---|:-:|
${targets.map((t) => `| ${t.target} | ${t.figure} | ${t.ok ? '✓' : '✗'} |`).join('\n')}

## Durability of each row

- **taskweave and BullMQ on the shared Redis** (\`${env.redisUrl}\`): ${env.redisAof ? 'AOF on' : '`appendonly no` and no RDB snapshots'}: an acknowledged write is in Redis' memory only; a Redis crash loses it (a process crash of the engine does not: the write is acknowledged before the task starts).
- **taskweave, fsync row**: a bench-owned \`redis-server\` (free loopback port, own directory, stopped at the end) with \`appendonly yes\`, \`appendfsync always\`: every acknowledged write was fsynced to the AOF first.
- **DBOS Transact**: its own database on PostgreSQL ${pg.version} (\`${env.pgUrl}\`), \`synchronous_commit = ${pg.synchronousCommit}\`, \`fsync = ${pg.fsync}\`: every acknowledged checkpoint was fsynced to the WAL first. DBOS's defaults otherwise (system database pool of 10).
- **XState floor and engine on the memory store**: nothing persisted.
- **Scale-out**: a bench-owned \`redis-server\` with no persistence (nothing else on it, so its \`INFO cpu\` is the bench's alone).

## taskweave on Redis vs BullMQ FlowProducer vs DBOS Transact (one process each, interleaved)

tasks/s = tasks completed ÷ time from the first start (\`engine.run\` / \`FlowProducer.add\` / workflow call) to the last
completion. "cost ÷ floor" = taskweave's µs/task on Redis ÷ the XState floor's µs/task for the same shape and
concurrency (memory, no persistence). Redis CPU = redis-server user+sys CPU (\`INFO cpu\`) per 1,000 tasks.

| shape | taskweave tasks/s | BullMQ tasks/s | DBOS tasks/s | taskweave ÷ BullMQ | taskweave ÷ DBOS | cost ÷ floor | Redis CPU ms / 1k tasks (tw / BullMQ) |
|---|---:|---:|---:|---:|---:|---:|---:|
${peerRow('fan10 × 200 in flight', 'fan10', 200, peers.fan)}
${peerRow('chain10 × 200 in flight', 'chain10', 200, peers.chainConcurrent)}
${peerRow('chain10, one at a time', 'chain10', 1, peers.chainSerial)}

Runs per repetition (taskweave / BullMQ / DBOS): fan10 ${tw(peers.fan).runs} / ${peers.fan.BullMQ!.runs} / ${peers.fan.DBOS!.runs}, chain10 × 200 ${tw(peers.chainConcurrent).runs} / ${peers.chainConcurrent.BullMQ!.runs} / ${peers.chainConcurrent.DBOS!.runs}, chain10 one at a time ${tw(peers.chainSerial).runs} / ${peers.chainSerial.BullMQ!.runs} / ${peers.chainSerial.DBOS!.runs}; repetitions ${tw(peers.fan).samples.length}, ${tw(peers.chainConcurrent).samples.length}, ${tw(peers.chainSerial).samples.length}.
fan10 as one BullMQ tree (join ← 9 leaves, no start → middle edge; BullMQ's most favourable 10-job flow): ${n0(median(r.fanTree))} tasks/s (${spread(r.fanTree)}).

**BullMQ side** (\`bench/bullmq.ts\`): one \`FlowProducer\` and one \`Worker\` (concurrency ${r.bullConcurrency}, completed jobs kept,
no retries), processors that return at once. chain10 is one 10-deep tree; fan10 is \`start\` as a one-job flow whose
processor adds the fan-in tree \`join ← m0…m7\` (a BullMQ job has one parent, so a shared \`start\` cannot be a child
of all eight middles). **DBOS side** (\`bench/dbos.ts\`): one registered workflow per shape, steps
(\`DBOS.runStep\`) that return at once; fan10 runs its eight middle steps with \`Promise.all\`.

## fsync on both sides

taskweave on a bench-owned redis-server with \`appendfsync always\` against DBOS with \`synchronous_commit = on\`, interleaved.

| shape | taskweave tasks/s | DBOS tasks/s | taskweave ÷ DBOS |
|---|---:|---:|---:|
${syncRow('fan10 × 200 in flight', fsync.fan)}
${syncRow('chain10, one at a time', fsync.chainSerial)}

## The job path

fan10, 200 at once, in one process on the shared Redis: \`engine.run\` directly against \`board.post\` + a conductor
(concurrency 200) on the same engine, until the board counts every job COMPLETE (\`bench/jobpath.ts\`); ${jobs.runs} runs per repetition.

| path | tasks/s | range |
|---|---:|---|
| direct \`engine.run\` | **${n0(median(jobs.direct))}** | ${spread(jobs.direct)} |
| post → conductor → complete | **${n0(median(jobs.jobs))}** | ${spread(jobs.jobs)} |

Cost per task, job path ÷ direct: ${ratioCell(jobCost)}.

## Scale-out: CPU per task with 1, 2 and 4 engine processes

fan10 jobs (${r.scale[0]?.jobs ?? '—'} per repetition, 3 repetitions, the systems alternating) through k engine
processes on one bench-owned redis-server (\`bench/scaleout.ts\`): taskweave conductors on a job board, BullMQ
Workers on a queue; 200 runs in flight in total (200 / k per process). CPU µs per task: engine processes
(\`process.cpuUsage\`), the posting process (posts + polling for the end), Redis (\`INFO cpu\`); total = all three.
Empty claims / waits per job: the conductors' \`board.claim\` calls that found no job and \`board.waitForWork\` calls,
per job (coordination: work that grows with the number of conductors, not with the jobs).

| system | processes | tasks/s | CPU µs/task, total | engines | poster | Redis | total ÷ 1 process | empty claims / waits per job |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${scaleRows.join('\n')}

One Redis node (one core busy running commands) carries 10⁶ ÷ Redis µs/task: taskweave ${r.scale.length ? n0(capacity('taskweave')) : '—'} tasks/s,
BullMQ ${r.scale.length ? n0(capacity('bullmq')) : '—'} tasks/s (medians over every process count). On ${env.cpus} cores shared by k engine processes,
Redis and the poster, wall-clock tasks/s cannot grow with k; CPU per task is the figure that shows coordination cost.

${distributedSection(r.distributed)}

## Engine overhead against the XState floor (memory store, \`bench/engine.ts\`, \`bench/floor.ts\`)

The XState floor: the same DAG as a hand-written XState v5 machine in this process, one state node and one invoked
promise actor per task, one transition per completion, no persistence. *Structured*: a chain as a sequence of
states, a fan as start → parallel state (one region per middle task) → join. *Regions*: the generic shape any DAG
allows, one parallel region per task, pending tasks listening for their dependencies' done events (the only floor
a random graph has). Engine and floors alternate, repetition by repetition.

| flow | runs | in flight | engine µs/task | floor µs/task | regions floor µs/task | engine ÷ floor | first engine run (incl. compile) ms |
|---|---:|---:|---:|---:|---:|---:|---:|
${engineRows.map((row) => `| ${row.shape} | ${row.runs} | ${row.inFlight} | ${stat(row.engine)} | ${stat(row.floor)} | ${row.regions ? stat(row.regions) : '—'} | ${ratioCell(row.ratios)} | ${n0(row.createMs)} |`).join('\n')}

The region-per-task floor is out of reach for rand1000 (one run did not finish in minutes: XState walks every
active region on every microstep, 1,000 of them here), so rand1000's floor column holds chain1000's structured floor,
the least XState does for 1,000 tasks.

## taskweave on Redis: more figures

Every transition is one acknowledged, fenced Lua write (a task starts only once the write marking it RUNNING is
acknowledged). Writes/task and bytes/write are counted at the \`Store\` interface (parts' names + values).

| run | runs × tasks | in flight | tasks/s | range | µs/task | writes/task | bytes/write |
|---|---|---:|---:|---|---:|---:|---:|
${twRow(fanTw)}
${twRow(twThroughput('chain10 × 200 in flight', 200, tw(peers.chainConcurrent)))}
${twRow(chainSerialTw)}
${twRow(sizes.chain10SerialAgain, ' (again, before chain1000)')}
${twRow(sizes.chain1000Serial)}
${twRow(sizes.rand10Serial)}
${sizes.rand1000Serial ? twRow(sizes.rand1000Serial) : '| rand1000 | skipped | | | | | | |'}

**Heap per in-flight fan10 run**: ${
    mem
      ? `${f1(mem.heapPerRunKB)} KB (${n0(mem.heapPerRunKB * 1000)} KB per 1,000 runs), ${f1(mem.rssPerRunKB)} KB RSS, for ${n0(mem.runs)} fan10 runs on Redis with ${n0(mem.runningTasks)} tasks running (the eight middle tasks of each awaiting a latch); heapUsed delta after \`gc()\`. Starting them took ${n0(mem.startMs)} ms.${r.floorHeapKB !== undefined ? ` The XState floor, the same way: ${f1(r.floorHeapKB)} KB per in-flight run.` : ''}`
      : 'not measured (no `global.gc`).'
  }

## What dominates

${notes.join('\n')}

CPU profiles of the bench process on Redis (V8 sampling profiler, 100 µs, started in-process around the measured part).

**chain10, one run at a time, 300 runs** (${n0(profiles.chain10.totalMs)} ms): ${areas(profiles.chain10)}.

${profileTable(profiles.chain10, 3000)}

**fan10, 200 runs in flight, 400 runs** (${n0(profiles.fan10.totalMs)} ms): ${areas(profiles.fan10)}.

${profileTable(profiles.fan10, 4000)}
`;
  return { md, targets };
}

/**
 * The distributed-execution section: throughput and CPU per task with 1, 2 and 4 worker processes, and
 * the latency a hop through Redis adds per task. On its own with `npm run bench -- --only=distributed`.
 */
export function distributedSection({ rows, hop }: DistributedFigures): string {
  const inProcess = (shape: string) => rows.find((r) => r.shape === shape && r.workers === 0);
  const table = rows.map((r) => {
    const base = inProcess(r.shape);
    const who =
      r.workers === 0 ? 'in-process engine' : `${r.workers} worker process${r.workers > 1 ? 'es' : ''}`;
    return `| ${r.shape} × ${r.inFlight} in flight | ${who} | ${n0(median(r.tasksPerSec))} (${spread(r.tasksPerSec)}) | **${f1(median(r.totalUs))}** (${spread1(r.totalUs)}) | ${f1(median(r.workersUs))} | ${f1(median(r.starterUs))} | ${f1(median(r.redisUs))} | ${base ? `${f2(median(r.totalUs) / median(base.totalUs))}×` : '—'} |`;
  });
  const added = perRep(hop.distributedMs, hop.inProcessMs).map((ratio, i) => ({
    ratio,
    ms: hop.distributedMs[i]! - hop.inProcessMs[i]!,
  }));
  const ms = (xs: readonly number[]) => `**${f2(median(xs))}** (${f2(lo(xs))}–${f2(hi(xs))})`;
  return `## Distributed execution: 1, 2 and 4 worker processes

Runs started by an engine with \`execution: 'distributed'\` in the bench process, their tasks executed by k worker
processes (\`createWorker\`, \`bench/distributed.ts\`) on one bench-owned redis-server with no persistence; ${rows[0]?.inFlight ?? '—'} runs
in flight (${rows[0]?.runs ?? '—'} per repetition), each worker set holding at most as many tasks (split between its k processes). The
in-process rows are one engine (\`execution: 'in-process'\`) in the bench process on the same Redis. CPU µs per task:
worker processes (\`process.cpuUsage\`), the starting process (starting runs, following each through its history),
Redis (\`INFO cpu\`); total = all three. Worker counts and the in-process engine alternate, repetition by repetition
(${rows[0]?.tasksPerSec.length ?? 0} repetitions); a worker process outside the measured set holds no worker.

| flow | executed by | tasks/s | CPU µs/task, total | workers | starter | Redis | total ÷ in-process |
|---|---|---:|---:|---:|---:|---:|---:|
${table.join('\n')}

**The hop**: one chain10 at a time (${hop.runs} runs per repetition, ${hop.inProcessMs.length} repetitions, alternating),
ms per task: in-process on the same Redis ${ms(hop.inProcessMs)}, distributed with one worker process
${ms(hop.distributedMs)}; a hop through Redis (the dispatch, the worker's read, its reload of the run and its write,
the starter following the history) adds ${ms(added.map((a) => a.ms))} ms per task, ${ratioCell(added.map((a) => a.ratio))} the in-process time.`;
}
