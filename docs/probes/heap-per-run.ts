/**
 * Heap per in-flight fan10 run of any checkout's build, measured as `npm run bench` does
 * (bench/redis.ts `memoryPerRuns`, bench/floor.ts `floorHeapPerRun`): `runs` fan10 runs started, their
 * eight middle tasks awaiting a latch, heapUsed after `gc()` against before, divided by the runs.
 *
 *   npx tsc -p tsconfig.build.json   # in each tree compared
 *   for i in 1 2 3; do for t in /path/to/old-tree .; do
 *     nice -n 10 node --expose-gc --import tsx docs/probes/heap-per-run.ts $t memory 1000; done; done
 *
 * Arguments: the tree (its `dist/` is loaded: what users run), `memory`, `redis` (the Redis at
 * 127.0.0.1:6379 under a random prefix, removed at the end) or `floor` (the hand-written XState machine
 * of bench/floor.ts), the number of runs (1,000 by default), and optionally a file name: then a heap
 * snapshot is taken before and after, and the objects added per run are printed by constructor
 * (count and self size per run, the largest first). Prints one JSON line.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { Redis } from 'ioredis';
import { createActor, fromPromise, toPromise } from 'xstate';
import { removeKeys } from './remove-keys.mjs';

const root = resolve(process.argv[2] ?? '.');
const kind = process.argv[3] ?? 'memory';
const runs = Number(process.argv[4] ?? 1000);
const snapshotFile = process.argv[5];
const REDIS = 'redis://127.0.0.1:6379';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('Expected node --expose-gc, got no global gc()');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/** Self size and count of every (node type, constructor or name) in a heap snapshot. */
async function byConstructor(file: string): Promise<Map<string, { count: number; size: number }>> {
  const snap = JSON.parse(await readFile(file, 'utf8'));
  const fields: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const out = new Map<string, { count: number; size: number }>();
  const nodes: number[] = snap.nodes;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + iType]!]!;
    let name: string = snap.strings[nodes[i + iName]!];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count += 1;
    e.size += nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

let before = 0;
let after = 0;
let extra: Record<string, unknown> = {};
const snapshots: string[] = [];
const snap = (tag: string) => {
  if (snapshotFile) snapshots.push(writeHeapSnapshot(`${snapshotFile}.${tag}.heapsnapshot`));
};

if (kind === 'floor') {
  // Imported here: bench/ checks that this tree's dist/ is built from its sources.
  const { fanDag, floorBatch, floorMachine } = await import('../../bench/floor.js');
  let open!: () => void;
  const latch = new Promise<void>((r) => (open = r));
  let entered = 0;
  const machine = floorMachine(fanDag(10)).provide({
    actors: {
      task: fromPromise(async ({ input }: { input: string }) => {
        if (input.startsWith('m')) {
          entered += 1;
          await latch;
        }
        return input;
      }),
    },
  });
  await floorBatch(floorMachine(fanDag(10)), 50, 50);
  before = await settle();
  snap('before');
  before = await settle();
  const done = Array.from({ length: runs }, () => toPromise(createActor(machine).start()));
  while (entered < runs * 8) await sleep(5);
  after = await settle();
  snap('after');
  open();
  await Promise.all(done);
} else {
  const tw = await import(`${root}/dist/src/index.js`);
  const { createEngine, linear, parallel, task, memoryStore, redisStore } = tw;
  const latchedFan = (name: string) => {
    let open!: () => void;
    const latch = new Promise<void>((r) => (open = r));
    const state = { entered: 0 };
    const flow = linear(name, [
      task({ name: 'start', execute: () => 'start' }),
      parallel(
        'middle',
        Array.from({ length: 8 }, (_, i) =>
          task({
            name: `m${i}`,
            async execute() {
              state.entered += 1;
              await latch;
              return i;
            },
          }),
        ),
      ),
      task({ name: 'join', execute: () => 'join' }),
    ]);
    return { flow, state, open: () => open() };
  };
  const prefix = `probeheap${Math.random().toString(36).slice(2, 8)}`;
  const store = kind === 'redis' ? redisStore({ redis: REDIS, prefix }) : memoryStore();
  const warm = latchedFan('latchedFan10');
  const engine = createEngine({ store, flows: [warm.flow] });
  warm.open();
  await Promise.all(Array.from({ length: 50 }, () => engine.run(warm.flow, {})));
  const { flow, state, open } = latchedFan('latchedFan10');
  engine.register(flow);
  before = await settle();
  snap('before');
  before = await settle();
  const t0 = performance.now();
  const results = Array.from({ length: runs }, () => engine.run(flow, {}));
  while (state.entered < runs * 8) await sleep(5);
  const startMs = performance.now() - t0;
  await sleep(50); // let the RUNNING writes settle
  after = await settle();
  snap('after');
  open();
  await Promise.all(results);
  await engine.close();
  extra = { startMs: Math.round(startMs) };
  if (kind === 'redis') {
    const admin = new Redis(REDIS);
    await removeKeys(admin, prefix);
    await admin.quit();
  }
}

console.log(
  JSON.stringify({ root, kind, runs, heapPerRunKB: +((after - before) / 1024 / runs).toFixed(2), ...extra }),
);

if (snapshotFile) {
  const [a, b] = await Promise.all(snapshots.map(byConstructor));
  const rows = [...b!.entries()]
    .map(([key, e]) => {
      const was = a!.get(key) ?? { count: 0, size: 0 };
      return { key, count: (e.count - was.count) / runs, bytes: (e.size - was.size) / runs };
    })
    .filter((r) => Math.abs(r.bytes) >= 8)
    .sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  const lines = [
    `per run: ${(total / 1024).toFixed(2)} KB self size added (heapUsed: ${((after - before) / 1024 / runs).toFixed(2)} KB)`,
    ...rows.map((r) => `${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(7)}×  ${r.key}`),
  ];
  writeFileSync(`${snapshotFile}.txt`, `${lines.join('\n')}\n`);
  console.log(lines.slice(0, 60).join('\n'));
}
process.exit(0);
