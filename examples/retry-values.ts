/**
 * retry.forEach tries values in turn until one works: here, hosts to place a VM on. Each failed try
 * reverts its scope before the next value is tried; what ran before the scope stays done.
 *
 *   npx tsx examples/retry-values.ts
 */
import { pathToFileURL } from 'node:url';
import { createEngine, linear, retry, task } from '../src/index.js';

const FULL = new Set(['host-a', 'host-b']);
const log: string[] = [];

const reserveQuota = task({
  name: 'reserve-quota',
  provides: 'quota',
  execute: () => {
    log.push('reserve-quota');
    return 'q-1';
  },
  revert: () => void log.push('reserve-quota: released'),
});

const claimSlot = task({
  name: 'claim-slot',
  requires: 'host',
  provides: 'slot',
  execute: ({ host }: { host: string }, ctx) => {
    // A new iteration of the retry scope gets a new idempotency key: it is a new request.
    log.push(`claim-slot on ${host} (key ${ctx.idempotencyKey})`);
    return `${host}/slot-0`;
  },
  revert: ({ result }) => void log.push(`claim-slot: released ${result}`),
});

const placeVm = task({
  name: 'place-vm',
  requires: ['host', 'slot', 'quota'],
  provides: 'placement',
  execute: ({ host, slot }: { host: string; slot: string }) => {
    if (FULL.has(host)) {
      log.push(`place-vm on ${host}: full`);
      throw new Error(`${host} is full`);
    }
    log.push(`place-vm on ${host}: placed`);
    return `vm-1 on ${slot}`;
  },
  revert: ({ error }) => void log.push(`place-vm: reverted${error ? ` (${error.message})` : ''}`),
});

// The scope `place` runs once per host until a run of it succeeds; each run sees the value as `host`.
export const placementFlow = linear('placement', [
  reserveQuota,
  linear('place', [claimSlot, placeVm], {
    retry: retry.forEach(['host-a', 'host-b', 'host-c'], { provides: 'host' }),
  }),
]);

async function main(): Promise<void> {
  const engine = createEngine();
  const run = engine.start(placementFlow, {}, { id: 'place-1' });
  const results = await run.result;
  for (const line of log) console.log(line);
  console.log(`\nrun ${run.id}: ${run.status}`);
  console.log(`results: ${JSON.stringify(results)}`);
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
