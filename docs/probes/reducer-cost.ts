/**
 * Per-event cost of the run machine's transition by flow size (issue 9: "what the copy strategy
 * costs at 10, 100 and 1,000 tasks"), for any checkout of this repository, so the same script
 * measures the pure core and the commit before it:
 *
 *   nice -n 10 node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128 \
 *     --import tsx docs/probes/reducer-cost.ts [tree]
 *
 * `tree` (default `.`) is the checkout whose src/ and node_modules/ are measured.
 *
 * 1. `walk`: the compiled machine taken from its first snapshot to SUCCESS, event after event, each
 *    event the outcome of the first busy task (every task succeeds). `actor`: a started actor whose
 *    task actors never settle is sent each outcome (the in-process engine's path, without its writer);
 *    `transition`: XState's pure `transition(machine, snapshot, event)` on the last snapshot (a
 *    distributed worker's step, tools). Nothing runs: this is the machine (the reducer in its actions,
 *    the lanes' transitions, XState's own work), not the engine. Reported per event: µs (median of the
 *    walks) in the transitions (wall) and of the process's CPU over the walk (cpu: what other
 *    processes on a shared machine disturb least), and bytes allocated (heap growth over the walk's
 *    first 100 events, median of the walks with no GC in that window; `-` if every one had a GC).
 * 2. `copy` (trees with src/compile/task-records.ts only): the copy strategy alone, the cost of
 *    replacing one task's record without changing the old context: groups of GROUP_SIZE records (what
 *    the reducer does) against one flat map of every record (the obvious pure alternative).
 *
 * Shapes: `rand` (a seeded random DAG, the bench's rand<n>), `chain` (linear), `fan` (parallel, so a
 * wide flow's lanes are shared). The machine is shared: report medians of several runs and the load.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? '.');
const from = (path: string) => import(pathToFileURL(resolve(root, path)).href);
const tw = await from('src/index.ts');
// The xstate the tree's sources import (its "import" condition), so snapshots and transition() match.
const xstate = await from('node_modules/xstate/dist/xstate.cjs.mjs');
const pure = existsSync(resolve(root, 'src/compile/task-records.ts'));
const { task, graph, linear, parallel, compile } = tw;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (see the header)');
let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
/** GC entries reach the observer a turn or two after the GC: wait for them before reading `gcs`. */
const gcEntriesDelivered = () =>
  new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setTimeout(resolve, 1))));
const BYTES_WINDOW = 100;

const noop = (name: string, requires: string[] = []) =>
  task({ name, requires, provides: name, execute: async () => name, revert: async () => {} });

function rand(n: number) {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return graph(
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
}
const chain = (n: number) =>
  linear(
    `chain${n}`,
    Array.from({ length: n }, (_, i) => noop(`c${i}`, i ? [`c${i - 1}`] : [])),
  );
const fan = (n: number) =>
  parallel(
    `fan${n}`,
    Array.from({ length: n }, (_, i) => noop(`f${i}`)),
  );

const SIZES = [10, 100, 1000];
const SHAPES: [string, (n: number) => unknown][] = [
  ['rand', rand],
  ['chain', chain],
  ['fan', fan],
];

/** The outcome of a busy task's actor, as the tree's machine expects it (the pure core stamps a time). */
const done = (id: string, at: number) => ({
  type: `xstate.done.actor.${id}`,
  output: pure ? { value: { encoded: id }, at } : { encoded: id },
});

interface Walk {
  events: number;
  /** Wall time in the walk's transitions, µs per event. */
  us: number;
  /** CPU time of the process over the whole walk, µs per event (less sensitive to other processes). */
  cpu: number;
  bytes: number | undefined;
}

/** The task actors a live walk provides: they never settle (the walk sends their outcomes itself). */
const never = () => xstate.fromPromise(() => new Promise(() => {}));

/**
 * `mode` `actor`: a started actor (what an engine runs) is sent each outcome; `transition`: XState's
 * pure `transition()` is applied to the last snapshot (what a distributed worker and tools do).
 */
async function walk(
  machine: any,
  mode: 'actor' | 'transition',
  limit = Number.POSITIVE_INFINITY,
): Promise<Walk> {
  const input = { runId: 'r', inputs: {}, at: 1_000 };
  let actor: any;
  let snapshot: any;
  if (mode === 'actor') {
    const provided = machine.provide({ actors: { execute: never(), revert: never(), sleepUntil: never() } });
    actor = xstate.createActor(provided, { input }).start();
    snapshot = actor.getSnapshot();
  } else [snapshot] = xstate.initialTransition(machine, input);
  gc!();
  // The forced GC's own entry arrives later too: count from after it.
  await gcEntriesDelivered();
  const gcsBefore = gcs;
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  let events = 0;
  let ms = 0;
  while (snapshot.context.status === 'RUNNING' && events < limit) {
    let busy: string | undefined;
    for (const id in snapshot.children) {
      busy = id;
      break;
    }
    if (busy === undefined) throw new Error(`stuck after ${events} events`);
    const event = done(busy, 2_000 + events);
    const t0 = performance.now();
    if (mode === 'actor') {
      actor.send(event);
      snapshot = actor.getSnapshot();
    } else [snapshot] = xstate.transition(machine, snapshot, event);
    ms += performance.now() - t0;
    events++;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const heapAfter = process.memoryUsage().heapUsed;
  actor?.stop();
  await gcEntriesDelivered();
  if (events < limit && snapshot.context.status !== 'SUCCESS') {
    throw new Error(`ended ${snapshot.context.status}`);
  }
  return {
    events,
    us: (ms * 1000) / events,
    cpu: (cpu.user + cpu.system) / events,
    bytes: gcs === gcsBefore ? (heapAfter - heapBefore) / events : undefined,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (x: number | undefined, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));

console.log(`tree ${root} (${pure ? 'pure core' : 'records changed in place'}), load ${loadavg()}`);
console.log('walk: mode shape size events µs/event(wall) µs/event(cpu) bytes/event (medians)');
for (const mode of ['actor', 'transition'] as const) {
  for (const [shape, make] of SHAPES) {
    for (const n of SIZES) {
      const { machine } = compile(make(n));
      // Warm up (JIT, XState's caches), then walk until ~200 ms were measured (at least 5 walks).
      for (let i = 0; i < 3; i++) await walk(machine, mode);
      const walks: Walk[] = [];
      let total = 0;
      while (walks.length < 5 || (total < 200 && walks.length < 200)) {
        const w = await walk(machine, mode);
        walks.push(w);
        total += (w.us * w.events) / 1000;
      }
      // Bytes from walks of the first BYTES_WINDOW events only: a whole 1,000-task walk does not fit
      // the young generation, and a GC in it hides what was allocated.
      const bytes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const b = (await walk(machine, mode, BYTES_WINDOW)).bytes;
        if (b !== undefined) bytes.push(b);
      }
      console.log(
        `walk ${mode} ${shape} ${n} ${walks[0]!.events} ${fmt(median(walks.map((w) => w.us)))} ${fmt(median(walks.map((w) => w.cpu)))} ${fmt(bytes.length ? median(bytes) : undefined, 0)}`,
      );
    }
  }
}

if (pure) {
  const records = await from('src/compile/task-records.ts');
  console.log(
    `copy: size strategy µs/change(wall) µs/change(cpu) bytes/change (GROUP_SIZE ${records.GROUP_SIZE})`,
  );
  for (const n of SIZES) {
    const { graph: g } = compile(rand(n));
    const names: string[] = g.tasks.map((t: { name: string }) => t.name);
    // Groups: what a transition does (the context copied shallowly, the group list and one group).
    const grouped = (changes: number) => {
      let context = { tasks: records.initialGroups(names) };
      for (let i = 0; i < changes; i++) {
        const draft = { ...context };
        const writer = new records.RecordWriter(g, draft);
        const name = names[(i * 7919) % n]!;
        writer.put(name, { ...writer.get(name), a: i });
        context = draft;
      }
      return context;
    };
    // One flat map: every record copied on every change.
    const flat = (changes: number) => {
      let tasks: Record<string, unknown> = Object.fromEntries(
        names.map((name) => [name, { s: 'PENDING', a: 0 }]),
      );
      for (let i = 0; i < changes; i++) {
        const name = names[(i * 7919) % n]!;
        tasks = { ...tasks, [name]: { ...(tasks[name] as object), a: i } };
      }
      return tasks;
    };
    // Fewer changes for large flat maps (slow to copy, and what they allocate must fit the young
    // generation, or a GC hides it): the per-change figure is the same.
    for (const [strategy, run, changes] of [
      ['groups', grouped, 20_000],
      ['flat', flat, n >= 1000 ? 500 : n >= 100 ? 5_000 : 20_000],
    ] as const) {
      const us: number[] = [];
      const cpus: number[] = [];
      const bytes: number[] = [];
      for (let r = 0; r < 7; r++) {
        gc();
        await gcEntriesDelivered();
        const gcsBefore = gcs;
        const heapBefore = process.memoryUsage().heapUsed;
        const cpuBefore = process.cpuUsage();
        const t0 = performance.now();
        run(changes);
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpuBefore);
        const heapAfter = process.memoryUsage().heapUsed;
        await gcEntriesDelivered();
        if (r < 2) continue; // warm-up
        us.push((ms * 1000) / changes);
        cpus.push((cpu.user + cpu.system) / changes);
        if (gcs === gcsBefore) bytes.push((heapAfter - heapBefore) / changes);
      }
      console.log(
        `copy ${n} ${strategy} ${fmt(median(us), 2)} ${fmt(median(cpus), 2)} ${fmt(bytes.length ? median(bytes) : undefined, 0)}`,
      );
    }
  }
}

function loadavg(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
