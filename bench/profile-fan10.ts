import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBatch } from './engine.js';
import { type CpuProfile, summarize } from './profile.js';
import { chain, fan, randomDag } from './shapes.js';
import { taskweave } from './taskweave.js';

const { createEngine } = taskweave;

/**
 * `npx tsx bench/profile-fan10.ts [runs] [shape] [inFlight]`: a `node --cpu-prof` profile of fan10
 * (or `chain10`, `fan100`, `rand100`…), 200 runs in flight by default, on the memory store (the engine alone, no persistence), summed by area and by function. Re-runs
 * itself under `node --cpu-prof --cpu-prof-interval 100`; the child warms up, then runs the measured
 * batch (the profile covers the whole child, so warm-up and start-up are in it too: read the shares of
 * xstate and taskweave against each other, not against the whole).
 */
const runs = Number(process.argv[2] ?? 2000);
const shape = process.argv[3] ?? 'fan10';
const inFlight = Number(process.argv[4] ?? 200);
if (process.env.TW_PROFILE_CHILD === '1') {
  const [, kind, size] = /^(chain|fan|rand)(\d+)$/.exec(shape) ?? [];
  if (!kind) throw new Error(`Expected a shape like fan10, chain10 or rand100, got ${shape}.`);
  const flow =
    kind === 'chain' ? chain(Number(size)) : kind === 'fan' ? fan(Number(size)) : randomDag(Number(size));
  const tasks = Number(size);
  const engine = createEngine({ flows: [flow] });
  await runBatch(engine, flow, Math.ceil(runs / 5), inFlight);
  const ms = await runBatch(engine, flow, runs, inFlight);
  await engine.close();
  console.log(
    `${shape} × ${runs}, ${inFlight} in flight, memory store: ${((ms * 1000) / (runs * tasks)).toFixed(1)} µs/task`,
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), 'tw-prof-'));
  spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-interval',
      '100',
      '--cpu-prof-dir',
      dir,
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(import.meta.url),
      String(runs),
      shape,
      String(inFlight),
    ],
    { stdio: 'inherit', env: { ...process.env, TW_PROFILE_CHILD: '1' } },
  );
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`node --cpu-prof wrote no profile into ${dir}`);
  const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, {
    functions: 25,
    own: 15,
  });
  rmSync(dir, { recursive: true, force: true });
  const row = (name: string, ms: number, share: number) =>
    `| ${name} | ${ms.toFixed(1)} | ${(share * 100).toFixed(1)}% |`;
  console.log(`total ${summary.totalMs.toFixed(0)} ms sampled\n`);
  console.log('| area | ms | share |\n|---|---:|---:|');
  for (const a of summary.areas) console.log(row(a.area, a.ms, a.share));
  console.log('\n| function (self) | ms | share |\n|---|---:|---:|');
  for (const f of summary.functions) console.log(row(`\`${f.fn}\``, f.ms, f.share));
  console.log('\n| taskweave function (inclusive) | ms | share |\n|---|---:|---:|');
  for (const f of summary.own) console.log(row(`\`${f.fn}\``, f.ms, f.share));
}
