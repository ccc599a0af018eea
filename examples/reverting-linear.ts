/**
 * A linear flow that fails part-way: what ran is reverted in reverse order, the failed task is
 * reverted too (with its error, and no result), and what never ran is left alone.
 *
 *   npx tsx examples/reverting-linear.ts
 */
import { pathToFileURL } from 'node:url';
import { createEngine, FlowFailedError, linear, task } from '../src/index.js';

const log: string[] = [];

/** A step of a database migration; `fail` makes its execute throw. */
function step(name: string, fail = false) {
  return task({
    name,
    execute() {
      log.push(`execute ${name}`);
      if (fail) throw new Error(`${name}: lock timeout`);
      return `${name} done`;
    },
    revert({ result, error }) {
      log.push(`revert  ${name}${error ? ` (it failed: ${error.message})` : ` (undo "${result}")`}`);
    },
  });
}

const steps = [step('add-column'), step('backfill'), step('add-index', true), step('drop-old-column')];
export const migrateFlow = linear('migrate', steps);

async function main(): Promise<void> {
  const engine = createEngine();
  const run = engine.start(migrateFlow, {}, { id: 'migrate-1' });
  try {
    await run.result;
  } catch (error) {
    if (!(error instanceof FlowFailedError)) throw error;
    for (const line of log) console.log(line);
    console.log(`\n${error.name}: ${error.message}`);
    console.log(`failures: ${error.failures.map((f) => `${f.task} (${f.error.message})`).join(', ')}`);
    console.log(`run status: ${run.status}`);
    const info = await engine.get(run.id);
    for (const { name } of steps) console.log(`  ${name.padEnd(16)}${info?.tasks[name]?.state}`);
  }
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
