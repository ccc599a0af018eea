import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { runBatch } from './engine.js';
import { type CpuProfile, summarize } from './profile.js';
import { fan } from './shapes.js';

/**
 * `npx tsx bench/profile-fan10.ts [runs]`: a `node --cpu-prof` profile of fan10, 200 runs in flight,
 * on the memory store (the engine alone, no persistence), summed by area and by function. Re-runs
 * itself under `node --cpu-prof --cpu-prof-interval 100`; the child warms up, then runs the measured
 * batch (the profile covers the whole child, so warm-up and start-up are in it too: read the shares of
 * xstate and taskweave against each other, not against the whole).
 */
const runs = Number(process.argv[2] ?? 2000);
if (process.env.TW_PROFILE_CHILD === '1') {
  const flow = fan(10);
  const engine = createEngine({ flows: [flow] });
  await runBatch(engine, flow, 400, 200);
  const ms = await runBatch(engine, flow, runs, 200);
  await engine.close();
  console.log(
    `fan10 × ${runs}, 200 in flight, memory store: ${((ms * 1000) / (runs * 10)).toFixed(1)} µs/task`,
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
