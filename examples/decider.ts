/**
 * A decider on a graph link chooses whether its target runs. Saying no marks the target IGNORED,
 * and with it everything that is only reachable through it; the rest of the flow goes on.
 *
 *   npx tsx examples/decider.ts
 */
import { pathToFileURL } from 'node:url';
import { createEngine, graph, task } from '../src/index.js';

interface Hardware {
  gpus: number;
}

const detect = task({
  name: 'detect-hardware',
  requires: 'host',
  provides: 'hardware',
  execute: ({ host }: { host: string }): Hardware => ({ gpus: host.startsWith('gpu-') ? 2 : 0 }),
});

const installDriver = task({
  name: 'install-gpu-driver',
  requires: 'hardware',
  provides: 'driver',
  execute: ({ hardware }: { hardware: Hardware }) => `nvidia-550 for ${hardware.gpus} GPUs`,
});

const burnIn = task({
  name: 'gpu-burn-in',
  requires: 'driver',
  provides: 'gpuHealthy',
  execute: () => true,
});

const baseline = task({
  name: 'install-baseline',
  requires: 'hardware',
  provides: 'baseline',
  execute: () => 'ssh, ntp, node-exporter',
});

// The decider sees the results of the link's source tasks, by task name.
const hasGpus = (history: Record<string, unknown>) => (history['detect-hardware'] as Hardware).gpus > 0;

export const provisionFlow = graph('provision-host', [detect, installDriver, burnIn, baseline], {
  links: [['detect-hardware', 'install-gpu-driver', hasGpus]],
});

const TASKS = ['detect-hardware', 'install-gpu-driver', 'gpu-burn-in', 'install-baseline'];

async function provision(host: string): Promise<void> {
  const engine = createEngine();
  const states = new Map<string, string>();
  const run = engine.start(provisionFlow, { host }, { id: `provision-${host}` });
  run.on('task', (e) => states.set(e.task, e.state));
  const results = await run.result;
  console.log(`${host}: run ${run.status}`);
  for (const name of TASKS) console.log(`  ${name.padEnd(20)}${states.get(name) ?? 'PENDING'}`);
  console.log(`  results: ${JSON.stringify(results)}\n`);
  await engine.close();
}

async function main(): Promise<void> {
  await provision('gpu-7');
  await provision('web-3');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
